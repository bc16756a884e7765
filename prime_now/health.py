"""Liveness and readiness, for load balancers, orchestrators and on-call engineers.

`/healthz`: the process answers (no dependency is asked, so a database outage does not get
every web process restarted). `/readyz`: every part a request or a job needs, each check with
its status and latency, 503 naming the failing checks. The checks are django-health-check's
(database, Redis, a Celery worker's ping) plus ours (migrations, broker, beat, outbox lag).
"""

import asyncio
import contextlib
import dataclasses
import datetime
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import current_app
from celery.beat import PersistentScheduler
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from health_check import checks as library_checks
from health_check.base import HealthCheck, HealthCheckResult
from health_check.contrib import celery as celery_checks
from health_check.contrib import redis as redis_checks
from health_check.exceptions import ServiceUnavailable
from kombu import Connection
from redis.asyncio import Redis as AsyncRedis

from prime_now.kernel.bus import outbox_backlog
from prime_now.kernel.expand_contract import contract_step
from prime_now.kernel.faults import faults_active
from prime_now.kernel.levers import lever_states

BEAT_TICK_KEY = "health:beat-tick"


def healthz(request: HttpRequest) -> JsonResponse:
    """Alive: the process serves requests. Nothing else is asked."""
    return JsonResponse({"status": "ok", "version": settings.BUILD_VERSION})


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration of the code is applied to the database, but contract steps: a release
    runs those only after its switch (docs/operations.md, "Expand/contract")."""

    def run(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        # Checks run in threads of their own: close what they opened.
        with connection.temporary_connection():
            executor = MigrationExecutor(connection)
            plan = [
                migration
                for migration, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())
                if contract_step(migration) is None
            ]
        if plan:
            raise ServiceUnavailable(f"{len(plan)} migration(s) not applied")


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection."""

    timeout = datetime.timedelta(seconds=2)

    def run(self) -> None:
        try:
            with Connection(
                current_app.conf.broker_url,
                transport_options=current_app.conf.broker_transport_options,
                connect_timeout=2,
            ) as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:
            raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc


@dataclasses.dataclass
class Beat(HealthCheck):
    """Celery beat ticked lately (it records each tick, see RecordingScheduler)."""

    max_age: float = dataclasses.field(default=60.0, repr=False)

    def run(self) -> None:
        ticked = cache.get(BEAT_TICK_KEY)
        if ticked is None:
            raise ServiceUnavailable("beat has not ticked")
        age = time.time() - float(ticked)
        if age > self.max_age:
            raise ServiceUnavailable(f"beat last ticked {age:.0f} s ago")


@dataclasses.dataclass
class OutboxLag(HealthCheck):
    """The oldest event not yet handed to the broker is younger than the bound."""

    max_age: float = dataclasses.field(default=60.0, repr=False)

    def run(self) -> None:
        with connections[DEFAULT_DB_ALIAS].temporary_connection():
            _count, age = outbox_backlog()
        if age > self.max_age:
            raise ServiceUnavailable(f"oldest unrelayed event is {age:.0f} s old")


class RecordingScheduler(PersistentScheduler):
    """Beat's own scheduler, recording when it last ticked (for the readiness check)."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        with contextlib.suppress(Exception):  # a cache outage must not stop the schedule
            cache.set(BEAT_TICK_KEY, time.time(), timeout=None)
        interval: float = super().tick(*args, **kwargs)
        # Wake at least every 10 s, so the recorded tick is never older than that.
        return min(interval, 10.0)


def readiness_checks() -> list[HealthCheck]:
    """The checks /readyz runs; Redis only when it is configured."""
    found: list[HealthCheck] = [
        library_checks.Database(),
        Migrations(),
        Broker(),
        celery_checks.Ping(timeout=datetime.timedelta(seconds=1), limit=1),
        Beat(max_age=settings.READYZ_BEAT_MAX_AGE),
        OutboxLag(max_age=settings.READYZ_OUTBOX_MAX_LAG),
    ]
    if settings.REDIS_URL:
        url = settings.REDIS_URL
        found.insert(1, redis_checks.Redis(client_factory=lambda: AsyncRedis.from_url(url)))
    return found


# What each check is called in the answer (and in the alerts and docs).
CHECK_NAMES = {
    "Database": "database",
    "Migrations": "migrations",
    "Redis": "redis",
    "Broker": "broker",
    "Ping": "worker",
    "Beat": "beat",
    "OutboxLag": "outbox",
}


def _result(check: HealthCheck) -> HealthCheckResult:
    # Each check in a thread with its own event loop: the view stays a plain sync view, which
    # works in any server and whatever loop the calling thread may already run.
    return asyncio.run(check.get_result())


def _information() -> dict[str, Any]:
    """Never a failure: the levers shed and the faults injected (issue 19), when readable."""
    try:
        return {
            "levers_shed": sorted(name for name, on in (lever_states() or {}).items() if not on),
            "faults_active": len(faults_active()),
        }
    except DatabaseError:  # the database check says so already
        return {}


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """JSON: {"status": "ok"|"unavailable", "failing": [...], "checks": {name: {status,
    latency_ms, error}}}; 503 when any check fails. The checks run side by side."""
    checks = readiness_checks()
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        results = list(pool.map(_result, checks))
    report = {
        CHECK_NAMES[type(result.check).__name__]: {
            "status": "ok" if result.error is None else "failing",
            "latency_ms": round(result.time_taken * 1000, 1),
            **({"error": str(result.error)} if result.error else {}),
        }
        for result in results
    }
    failing = sorted(name for name, check in report.items() if check["status"] != "ok")
    body = {
        "status": "unavailable" if failing else "ok",
        "failing": failing,
        "version": settings.BUILD_VERSION,
        "checks": report,
        **_information(),
    }
    return JsonResponse(body, status=503 if failing else 200)
