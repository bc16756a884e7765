"""Nothing is dropped silently: a handler out of retries and a task that keeps killing its
worker leave a dead letter (counted, listed, replayable)."""

import uuid
from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from prometheus_client import REGISTRY

from prime_now.kernel import bus, deadletters
from prime_now.kernel.models import DeadLetter, DeadLetterKind
from tests.kernel.poison_probe import POISONED, PoisonProbed, digested, on_poison_probed

HANDLER = bus.handler_key(on_poison_probed)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _few_retries(settings):
    """Two retries, run inline (an eager task that propagates its errors is not retried:
    Celery's eager retry loop needs them kept)."""
    settings.EVENT_MAX_RETRIES = 2
    conf = deadletters.current_app.conf
    saved, conf.task_eager_propagates = conf.task_eager_propagates, False
    yield
    conf.task_eager_propagates = saved
    POISONED.clear()


def poisoned_event(django_capture_on_commit_callbacks) -> tuple[str, uuid.UUID]:
    probe = uuid.uuid4().hex[:10]
    POISONED.add(probe)
    with django_capture_on_commit_callbacks(execute=True):
        event_id = bus.publish(PoisonProbed(probe_id=probe))
    return probe, event_id


def dead_letter_count(name: str) -> float:
    return REGISTRY.get_sample_value("dead_letters_total", {"kind": "event", "name": name}) or 0.0


def test_a_handler_out_of_retries_leaves_one_dead_letter_with_its_error(
    django_capture_on_commit_callbacks,
):
    # Given a handler that fails every time
    counted_before = dead_letter_count(HANDLER)

    # When its event is published (and retried, eagerly, up to the limit)
    probe, event_id = poisoned_event(django_capture_on_commit_callbacks)

    # Then one dead letter keeps the event, the handler, the attempts and the traceback
    letter = DeadLetter.objects.get()
    assert (letter.kind, letter.name, letter.event_id) == (DeadLetterKind.EVENT, HANDLER, event_id)
    assert letter.attempts == 3  # the first run and two retries
    assert f"cannot digest {probe}" in letter.last_error
    assert "Traceback" in letter.traceback and "on_poison_probed" in letter.traceback
    assert dead_letter_count(HANDLER) == counted_before + 1
    assert digested(probe) == 0


def test_a_handler_gets_every_retry_the_setting_allows_beyond_celerys_default_of_three(
    settings, django_capture_on_commit_callbacks
):
    # Given the shipped limit, above Celery's own default retry limit (3)
    settings.EVENT_MAX_RETRIES = 8

    # When a handler fails every time
    poisoned_event(django_capture_on_commit_callbacks)

    # Then it was tried 9 times and its event kept as a dead letter, not dropped after 4
    assert DeadLetter.objects.get().attempts == 9


def test_other_events_flow_while_one_is_dead_lettered(django_capture_on_commit_callbacks):
    poisoned_event(django_capture_on_commit_callbacks)
    healthy = uuid.uuid4().hex[:10]

    with django_capture_on_commit_callbacks(execute=True):
        bus.publish(PoisonProbed(probe_id=healthy))

    assert digested(healthy) == 1
    assert DeadLetter.objects.count() == 1


def test_retry_now_in_the_admin_runs_the_handler_once_its_cause_is_fixed(
    django_capture_on_commit_callbacks, rf, admin_user
):
    # Given a dead letter, and its cause fixed
    probe, _ = poisoned_event(django_capture_on_commit_callbacks)
    POISONED.discard(probe)
    admin = site._registry[DeadLetter]
    request = rf.post("/admin/kernel/deadletter/")
    request.user = admin_user
    request._messages = SimpleNamespace(add=lambda *args, **kwargs: None)

    # When the operator retries it, twice
    admin.retry_now(request, DeadLetter.objects.all())
    admin.retry_now(request, DeadLetter.objects.all())

    # Then the handler ran once, and the letter says it was replayed
    assert digested(probe) == 1
    letter = DeadLetter.objects.get()
    assert letter.replayed_at is not None and letter.replays == 2


def test_the_command_lists_open_dead_letters_and_replays_them(
    django_capture_on_commit_callbacks, capsys
):
    probe, _ = poisoned_event(django_capture_on_commit_callbacks)

    call_command("dead_letters")
    listed = capsys.readouterr().out
    POISONED.discard(probe)
    call_command("dead_letters", "--replay-open")

    assert HANDLER in listed and "1 dead letter(s)." in listed
    assert digested(probe) == 1
    assert not DeadLetter.objects.filter(replayed_at__isnull=True).exists()


def test_an_event_with_a_dead_letter_outlives_the_outbox_purge(django_capture_on_commit_callbacks):
    _probe, event_id = poisoned_event(django_capture_on_commit_callbacks)
    bus.OutboxEvent.objects.filter(pk=event_id).update(relayed_at="2000-01-01T00:00:00Z")

    bus.purge(older_than_days=1)

    assert bus.OutboxEvent.objects.filter(pk=event_id).exists()


@pytest.mark.redis
def test_a_task_back_more_often_than_allowed_is_dead_lettered_not_run(settings):
    # Given a task message whose worker died with it as often as allowed
    settings.TASK_MAX_DELIVERIES = 2
    task = deadletters.current_app.tasks["kernel.purge_outbox"]
    request = SimpleNamespace(id=uuid.uuid4().hex, retries=0, kwargs={"older_than_days": 3})
    assert deadletters.current_app.conf.broker_url.startswith("redis://")

    # When it is delivered a first, a second and a third time
    verdicts = [deadletters._too_many_deliveries(task, request) for _ in range(3)]

    # Then the third delivery is not run but kept as a dead letter
    assert verdicts == [False, False, True]
    letter = DeadLetter.objects.get()
    assert (letter.kind, letter.name) == (DeadLetterKind.TASK, "kernel.purge_outbox")
    assert letter.kwargs == {"older_than_days": 3} and letter.attempts == 3
