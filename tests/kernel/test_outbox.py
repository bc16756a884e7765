import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from prime_now.kernel import bus, tasks
from prime_now.kernel.bus import Event
from prime_now.kernel.models import HandledEvent, OutboxEvent
from prime_now.settings import redis_url_with_db
from tests.kernel.broker import DEAD_BROKER, broker_at
from tests.kernel.outbox_probe import ProbePinged, handled, on_probe_pinged

HANDLER = bus.handler_key(on_probe_pinged)


def on_probe_pinged_too(event: ProbePinged) -> None:
    """A second subscriber (some tests add it)."""


def new_id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.mark.django_db
def test_an_event_published_in_a_rolled_back_transaction_is_never_delivered(
    django_capture_on_commit_callbacks,
):
    probe = new_id()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        bus.publish(ProbePinged(probe_id=probe))
        raise RuntimeError("the use case failed")

    assert not OutboxEvent.objects.exists()
    assert handled(probe) == 0


@pytest.mark.django_db
def test_a_committed_event_is_relayed_and_handled_once(django_capture_on_commit_callbacks):
    probe = new_id()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_id = bus.publish(ProbePinged(probe_id=probe))

    assert handled(probe) == 1
    assert OutboxEvent.objects.get(pk=event_id).relayed_at is not None


@pytest.mark.django_db
def test_handing_on_a_committed_event_costs_its_publisher_one_message_and_no_statement(
    django_capture_on_commit_callbacks, django_assert_num_queries, monkeypatch
):
    # Given an event with two subscribers committed, and a broker that takes what it is sent
    also = bus.handler_key(on_probe_pinged_too)
    monkeypatch.setitem(bus._SUBSCRIBERS[ProbePinged.name], also, on_probe_pinged_too)
    asked, sent = [], []
    monkeypatch.setattr(
        tasks.relay_event, "apply_async", lambda kwargs, **options: asked.append(kwargs)
    )
    monkeypatch.setattr(bus, "_send", lambda event_id, key: sent.append(key))
    with django_capture_on_commit_callbacks() as callbacks:
        event_id = bus.publish(ProbePinged(probe_id=new_id()))

    # When its publisher hands it on after commit
    with django_assert_num_queries(0):
        for callback in callbacks:
            callback()

    # Then it sent one message, asking a worker to relay the event, and wrote nothing
    assert asked == [{"event_id": str(event_id)}] and sent == []
    assert OutboxEvent.objects.get(pk=event_id).relayed_at is None

    # And the worker's relay sends it to each subscriber and marks it relayed
    assert tasks.relay_event(**asked[0]) is True
    assert sorted(sent) == sorted([HANDLER, also])
    row = OutboxEvent.objects.get(pk=event_id)
    assert row.relayed_at is not None
    assert (row.leased_until, row.attempts) == (None, 1)


@pytest.mark.django_db
def test_an_event_whose_relay_message_was_lost_goes_once_its_lease_runs_out(
    django_capture_on_commit_callbacks, monkeypatch
):
    # Given an event whose relay message the broker took and then lost (a Redis restart)
    probe = new_id()
    monkeypatch.setattr(tasks.relay_event, "apply_async", lambda kwargs, **options: None)
    with django_capture_on_commit_callbacks(execute=True):
        event_id = bus.publish(ProbePinged(probe_id=probe))
    assert bus.relay_all() == 0  # still leased to its publisher's message

    # When the lease runs out, the periodic relay hands it on, once
    OutboxEvent.objects.filter(pk=event_id).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert (bus.relay_all(), bus.relay_all()) == (1, 0)
    assert handled(probe) == 1


@pytest.mark.django_db
def test_an_event_whose_publisher_died_waits_out_its_lease_then_goes_once(
    django_capture_on_commit_callbacks,
):
    # Given an event committed by a publisher that died before handing it on
    probe = new_id()
    with django_capture_on_commit_callbacks(execute=False):
        event_id = bus.publish(ProbePinged(probe_id=probe))

    # When the periodic relay runs within the lease, it leaves the event alone
    assert bus.relay_all() == 0
    assert handled(probe) == 0

    # Once the lease is over, it hands the event on, once
    OutboxEvent.objects.filter(pk=event_id).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert (bus.relay_all(), bus.relay_all()) == (1, 0)
    assert handled(probe) == 1


@pytest.mark.django_db
def test_an_operator_relays_chosen_events_even_while_they_are_leased(
    django_capture_on_commit_callbacks,
):
    # Given an event committed but not yet handed on by its publisher (still leased)
    probe = new_id()
    with django_capture_on_commit_callbacks(execute=False):
        event_id = bus.publish(ProbePinged(probe_id=probe))

    # When an operator relays it by id, then it goes out now, once
    assert bus.relay(event_ids=[event_id]) == 1
    assert bus.relay(event_ids=[event_id]) == 0
    assert handled(probe) == 1


@dataclass(frozen=True)
class NobodyListens(Event):
    note: str


def _write_if(staged: bus.StagedEvent, condition: bool) -> int:
    """A publisher's own statement that writes the staged event when `condition` holds."""
    sql = (
        "WITH source AS (SELECT 1 WHERE %(condition)s), "
        f"outbox AS ({bus.outbox_insert('source')}) SELECT count(*) FROM source"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {**staged.params, "condition": condition})
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_an_event_written_by_its_publishers_own_statement_is_relayed_after_commit(
    django_capture_on_commit_callbacks,
):
    probe = new_id()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        staged = bus.stage(ProbePinged(probe_id=probe))
        assert _write_if(staged, True) == 1
        bus.staged_written(staged)

    assert handled(probe) == 1
    assert OutboxEvent.objects.get(pk=staged.id).relayed_at is not None


@pytest.mark.django_db
def test_a_staged_event_its_statement_did_not_write_is_not_there():
    staged = bus.stage(ProbePinged(probe_id=new_id()))

    assert _write_if(staged, False) == 0

    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_an_event_nobody_subscribes_to_is_recorded_as_relayed_with_nothing_to_send(
    django_capture_on_commit_callbacks,
):
    # Given an event type without subscribers, when it is published and committed
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        event_id = bus.publish(NobodyListens(note="status changed"))

    # Then it is kept in the outbox as already relayed, and no relay runs after commit
    assert OutboxEvent.objects.get(pk=event_id).relayed_at is not None
    assert callbacks == []


@pytest.mark.django_db
def test_a_redelivered_event_is_skipped_by_a_handler_that_already_ran(
    django_capture_on_commit_callbacks,
):
    probe = new_id()
    with django_capture_on_commit_callbacks(execute=True):
        event_id = bus.publish(ProbePinged(probe_id=probe))

    ran_again = bus.deliver(event_id=str(event_id), handler=HANDLER)

    assert ran_again is False
    assert handled(probe) == 1
    assert HandledEvent.objects.filter(event_id=event_id).count() == 1


@pytest.mark.django_db
def test_an_event_published_while_the_broker_is_down_stays_pending(
    django_capture_on_commit_callbacks,
):
    probe = new_id()
    with broker_at(DEAD_BROKER), django_capture_on_commit_callbacks(execute=True):
        event_id = bus.publish(ProbePinged(probe_id=probe))

    row = OutboxEvent.objects.get(pk=event_id)
    assert row.relayed_at is None
    assert row.leased_until is None  # given back: the periodic relay may take it at once
    assert row.attempts == 1
    assert row.last_error
    assert handled(probe) == 0


@pytest.mark.django_db
def test_a_pending_event_is_delivered_once_by_the_periodic_relay_when_the_broker_is_back(
    django_capture_on_commit_callbacks,
):
    probe = new_id()
    with broker_at(DEAD_BROKER), django_capture_on_commit_callbacks(execute=True):
        bus.publish(ProbePinged(probe_id=probe))

    first = bus.relay_all()
    second = bus.relay_all()

    assert (first, second) == (1, 0)
    assert handled(probe) == 1


def test_publish_refuses_anything_but_an_event():
    with pytest.raises(TypeError):
        bus.publish({"probe_id": "x"})


def test_an_event_survives_the_round_trip_through_json():
    event = ProbePinged(probe_id="abc")

    assert bus.decode(event.name, bus.encode(event)) == event


def _in_thread(target, count: int) -> list:
    results, errors = [], []

    def run():
        try:
            results.append(target())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_relays_running_at_once_hand_each_event_on_once():
    # Given 120 events the broker never took
    OutboxEvent.objects.bulk_create(
        OutboxEvent(name=ProbePinged.name, payload=bus.encode(ProbePinged(probe_id=new_id())))
        for _ in range(120)
    )
    broker_url = redis_url_with_db(settings.REDIS_URL, 12)
    broker = redis.Redis.from_url(broker_url)
    broker.flushdb()

    # When four relays run at the same time, in small batches
    with broker_at(broker_url):
        relayed = _in_thread(lambda: bus.relay_all(batch=7), count=4)

    # Then every event was handed to the broker exactly once
    assert sum(relayed) == 120
    assert broker.llen("default") == 120
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
    broker.flushdb()


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_event_at_once_run_the_handler_once():
    probe = new_id()
    row = OutboxEvent.objects.create(
        name=ProbePinged.name, payload=bus.encode(ProbePinged(probe_id=probe))
    )

    outcomes = _in_thread(lambda: bus.deliver(event_id=str(row.id), handler=HANDLER), count=2)

    assert sorted(outcomes) == [False, True]
    assert handled(probe) == 1
