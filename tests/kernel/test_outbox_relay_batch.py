"""A relay that hands on several events and meets a broker error part-way."""

from datetime import timedelta

import pytest
from django.utils import timezone

from prime_now.kernel import bus
from prime_now.kernel.models import OutboxEvent
from tests.kernel.outbox_probe import ProbePinged


@pytest.mark.django_db
def test_a_broker_error_mid_batch_keeps_the_sent_relayed_and_the_rest_pending_as_they_were(
    monkeypatch, django_capture_on_commit_callbacks
):
    # Given three pending events, the last one already tried once before
    with django_capture_on_commit_callbacks(execute=False):
        ids = [bus.publish(ProbePinged(probe_id=f"batch-{n}")) for n in range(3)]
    start = timezone.now() - timedelta(minutes=1)
    for n, event_id in enumerate(ids):
        OutboxEvent.objects.filter(pk=event_id).update(created_at=start + timedelta(seconds=n))
    OutboxEvent.objects.filter(pk=ids[2]).update(attempts=1, last_error="earlier outage")
    sent = []

    def send(event_id, key):
        if event_id == ids[1]:
            raise OSError("broker went away")
        sent.append(event_id)

    monkeypatch.setattr(bus, "_send", send)

    # When the relay runs and the broker fails on the second event
    relayed = bus.relay(event_ids=ids)

    # Then the first is relayed once, the second is pending with the error counted,
    # and the third is pending exactly as it was
    rows = {row.id: row for row in OutboxEvent.objects.filter(pk__in=ids)}
    assert relayed == 1
    assert sent == [ids[0]]
    assert rows[ids[0]].relayed_at is not None and rows[ids[0]].attempts == 1
    assert rows[ids[1]].relayed_at is None
    assert (rows[ids[1]].attempts, rows[ids[1]].last_error) == (1, "broker went away")
    assert rows[ids[2]].relayed_at is None
    assert (rows[ids[2]].attempts, rows[ids[2]].last_error) == (1, "earlier outage")
