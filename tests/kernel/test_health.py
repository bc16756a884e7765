"""Liveness (/healthz) and readiness (/readyz): each dependency down names its check."""

import time
from datetime import timedelta

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from prime_now.health import BEAT_TICK_KEY, RecordingScheduler
from prime_now.kernel.levers import lever_set
from prime_now.kernel.models import OutboxEvent
from prime_now.settings import redis_url_with_db
from tests.kernel.broker import DEAD_BROKER, broker_at
from tests.kernel.worker import celery_worker, wait_for

# Redis databases for this module's worker, apart from test_worker's (one per xdist worker).
HEALTH_BROKER_DBS = (15, 2, 3, 4, 5, 7, 8, 9, 10, 11)


def test_healthz_answers_without_asking_the_database(client):
    # Given no database access is allowed (this test has no django_db mark)
    # When the liveness probe asks
    response = client.get("/healthz")

    # Then the process says it is alive, with its build
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": settings.BUILD_VERSION}


@pytest.fixture(scope="module")
def broker_url(worker_id: str) -> str:
    number = int(worker_id.removeprefix("gw")) if worker_id.startswith("gw") else 0
    return redis_url_with_db(settings.REDIS_URL, HEALTH_BROKER_DBS[number % len(HEALTH_BROKER_DBS)])


@pytest.fixture(scope="module")
def live_worker(django_db_setup, django_db_blocker, broker_url):
    """One real worker for the module, answering pings on its own Redis database."""
    redis.Redis.from_url(broker_url).flushdb()
    db = int(broker_url.rsplit("/", 1)[1])
    with django_db_blocker.unblock(), celery_worker(broker_db=db) as worker:
        with broker_at(broker_url):
            if not wait_for(lambda: current_app.control.ping(timeout=0.5), timeout=60):
                pytest.fail(f"the worker did not start:\n{worker.stdout.read()[-3000:]}")
        yield worker


@pytest.fixture
def ready(live_worker, broker_url):
    """Everything up: the worker runs, beat has just ticked, nothing waits in the outbox."""
    cache.set(BEAT_TICK_KEY, time.time())
    with broker_at(broker_url):
        yield


def _readyz(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    return response.status_code, response.json()


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
class TestReadiness:
    def test_ready_when_every_part_answers(self, client, ready):
        status, body = _readyz(client)

        assert (status, body["status"], body["failing"]) == (200, "ok", [])
        assert set(body["checks"]) == {
            "database", "migrations", "redis", "broker", "worker", "beat", "outbox",
        }  # fmt: skip
        assert all(check["latency_ms"] >= 0 for check in body["checks"].values())

    def test_a_shed_lever_is_named_but_does_not_fail_readiness(self, client, ready):
        lever_set("storefront-also-bought", enabled=False, reason="test")

        status, body = _readyz(client)

        assert (status, body["levers_shed"]) == (200, ["storefront-also-bought"])

    def test_not_ready_when_the_database_is_down(self, client, ready):
        saved = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict["PORT"] = "1"
        try:
            status, body = _readyz(client)
        finally:
            connection.settings_dict.update(saved)
            connection.close()

        assert status == 503
        assert "database" in body["failing"]
        assert body["checks"]["database"]["status"] == "failing"

    def test_not_ready_when_redis_is_down(self, client, ready, settings):
        settings.REDIS_URL = "redis://127.0.0.1:1/0"

        status, body = _readyz(client)

        assert (status, body["failing"]) == (503, ["redis"])

    def test_not_ready_when_the_broker_is_down(self, client, ready):
        with broker_at(DEAD_BROKER):
            status, body = _readyz(client)

        assert status == 503
        assert "broker" in body["failing"]

    def test_not_ready_when_no_worker_answers(self, client, ready, broker_url):
        # Given a broker database no worker consumes (pings are scoped to a database)
        idle = redis_url_with_db(settings.REDIS_URL, 12)
        with broker_at(idle):
            status, body = _readyz(client)

        assert (status, body["failing"]) == (503, ["worker"])

    def test_not_ready_when_beat_stopped_ticking(self, client, ready):
        cache.set(BEAT_TICK_KEY, time.time() - 300)

        status, body = _readyz(client)

        assert (status, body["failing"]) == (503, ["beat"])
        assert "last ticked 300 s ago" in body["checks"]["beat"]["error"]

    def test_not_ready_when_the_outbox_lags(self, client, ready):
        OutboxEvent.objects.create(
            name="tests.Stuck", payload={}, created_at=timezone.now() - timedelta(minutes=5)
        )

        status, body = _readyz(client)

        assert (status, body["failing"]) == (503, ["outbox"])


def test_beat_records_each_tick(tmp_path):
    # Given beat's scheduler over an empty schedule
    scheduler = RecordingScheduler(
        app=current_app, schedule_filename=str(tmp_path / "schedule"), lazy=True
    )
    scheduler.setup_schedule()
    cache.delete(BEAT_TICK_KEY)

    # When it ticks
    wait = scheduler.tick()

    # Then the tick is recorded, and it wakes again within 10 s
    assert time.time() - cache.get(BEAT_TICK_KEY) < 5
    assert wait <= 10
