import json
import uuid

import pytest
import redis
import structlog
from django.conf import settings
from django.db import transaction

from prime_now.kernel import bus
from prime_now.settings import redis_url_with_db
from tests.kernel.broker import broker_at
from tests.kernel.outbox_probe import ProbePinged, handled, sessions
from tests.kernel.worker import celery_worker, wait_for

# Redis databases no other test or setting uses; one per xdist worker, because two of these
# tests running at once on one broker consumed each other's events.
FREE_BROKER_DBS = (11, 10, 9, 8, 7, 5, 4, 3, 2, 15)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def broker_db(worker_id: str) -> int:
    number = int(worker_id.removeprefix("gw")) if worker_id.startswith("gw") else 0
    return FREE_BROKER_DBS[number % len(FREE_BROKER_DBS)]


@pytest.fixture
def probe_worker(broker_db):
    """A real worker (one process) consuming from a clean Redis broker, with the probe's
    subscriber loaded; `publish(probe_id)` publishes a ping in its own committed transaction."""
    broker_url = redis_url_with_db(settings.REDIS_URL, broker_db)
    redis.Redis.from_url(broker_url).flushdb()

    def publish(probe_id: str) -> None:
        with broker_at(broker_url), transaction.atomic():
            bus.publish(ProbePinged(probe_id=probe_id))

    with celery_worker(broker_db=broker_db, include=("tests.kernel.outbox_probe",)) as worker:
        worker.publish = publish
        yield worker


def _wait_until_handled(worker, probes: list[str]) -> None:
    if not wait_for(lambda: all(handled(probe) == 1 for probe in probes), timeout=60):
        worker.terminate()
        pytest.fail(f"worker did not handle the events:\n{worker.stdout.read()[-4000:]}")


def test_a_real_worker_runs_the_handler_of_an_event_published_through_the_outbox(probe_worker):
    # Given a real worker consuming from a clean Redis broker
    probe = uuid.uuid4().hex[:12]

    # When an event is published in a committed transaction
    probe_worker.publish(probe)

    # Then the worker runs its subscriber, once
    _wait_until_handled(probe_worker, [probe])
    assert handled(probe) == 1


def test_a_real_worker_runs_one_task_after_another_on_the_same_database_connection(
    probe_worker,
):
    # Given a real worker (one process) consuming from a clean Redis broker
    run = uuid.uuid4().hex[:8]
    probes = [f"{run}-{n}" for n in range(5)]

    # When five events are published, each in its own transaction
    for probe in probes:
        probe_worker.publish(probe)

    # Then the worker handles all five in one database session (no reconnect per task)
    _wait_until_handled(probe_worker, probes)
    assert len(sessions(run)) == 1


def test_the_request_id_of_the_publisher_reaches_the_handlers_log_lines(probe_worker):
    # Given a request's context bound (django-structlog binds it per request)
    probe = uuid.uuid4().hex[:12]
    with structlog.contextvars.bound_contextvars(request_id=f"req-{probe}"):
        # When it publishes an event that a real worker handles
        probe_worker.publish(probe)
    _wait_until_handled(probe_worker, [probe])
    probe_worker.terminate()
    output = probe_worker.communicate(timeout=20)[0]

    # Then the handler's JSON log line carries the request id and the event
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    handled_line = next(line for line in lines if line.get("event") == "probe handled")
    assert handled_line["request_id"] == f"req-{probe}"
    assert handled_line["event_name"] == ProbePinged.name
