"""Automatic load shedding: every few seconds (beat's `kernel.shed_load`) the controller reads
the load signals and pulls the levers its rules name when a threshold is crossed, then
restores them, with hysteresis, once the signal has stayed below a lower threshold.

Signals (`read_signals`):
- `p99_ms` and `error_rate` (5xx share) per route, over the interval since the last check,
  from the request metrics (prime_now.metrics; all processes' when PROMETHEUS_MULTIPROC_DIR
  is set, as `make run` does); a route with fewer than MIN_REQUESTS requests is not judged;
- `queue_depth`: messages waiting in the Celery queues (Redis broker: list lengths;
  filesystem broker: files);
- `db_connections`: the share of PostgreSQL's max_connections in use;
- `outbox_lag_seconds`: the age of the oldest event not yet relayed.

Rules are settings (SHEDDING_RULES): a signal (and a route for the per-route ones; "*" is the
worst route), `above` (pull after `for_checks` checks in a row above it) and `below` (restore
after `restore_checks` checks in a row below it), and the levers. Every pull and restore goes
through `lever_set(automatic=True)`: in the levers' history and `lever_changes_total{how=
"automatic"}`. The controller restores only what it pulled: a lever an operator changed
since is left alone, and a lever two tripped rules share stays pulled until both clear.
"""

from __future__ import annotations

import logging
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

from prime_now.kernel.levers import lever_set
from prime_now.kernel.models import LeverChange, OutboxEvent

logger = logging.getLogger(__name__)

STATE_KEY = "shedding:state:v1"
MIN_REQUESTS = 20
PER_ROUTE = {"p99_ms", "error_rate"}


@dataclass(frozen=True)
class Signals:
    """One reading of the load signals."""

    p99_ms: dict[str, float] = field(default_factory=dict)  # per route
    error_rate: dict[str, float] = field(default_factory=dict)  # per route, 0-1
    queue_depth: int = 0
    db_connections: float = 0.0  # share of max_connections, 0-1
    outbox_lag_seconds: float = 0.0

    def value(self, signal: str, route: str = "*") -> float:
        if signal in PER_ROUTE:
            per_route: dict[str, float] = getattr(self, signal)
            if route == "*":
                return max(per_route.values(), default=0.0)
            return per_route.get(route, 0.0)
        return float(getattr(self, signal))


@dataclass(frozen=True)
class Rule:
    name: str
    signal: str
    above: float
    below: float
    levers: tuple[str, ...]
    route: str = "*"
    for_checks: int = 1
    restore_checks: int = 3

    @classmethod
    def from_setting(cls, data: dict[str, Any]) -> Rule:
        return cls(**{**data, "levers": tuple(data["levers"])})


def rules() -> list[Rule]:
    return [Rule.from_setting(r) for r in getattr(settings, "SHEDDING_RULES", [])]


# --- the controller -----------------------------------------------------------------------


def tick(signals: Signals, *, now_rules: list[Rule] | None = None) -> list[str]:
    """One check: pull or restore levers by the rules; returns what was done, for the log."""
    state: dict[str, dict[str, Any]] = cache.get(STATE_KEY) or {}
    done: list[str] = []
    active_rules = now_rules if now_rules is not None else rules()
    for rule in active_rules:
        mine = state.setdefault(rule.name, {"pulled": False, "high": 0, "low": 0})
        value = signals.value(rule.signal, rule.route)
        if not mine["pulled"]:
            mine["high"] = mine["high"] + 1 if value > rule.above else 0
            if mine["high"] >= rule.for_checks:
                reason = f"auto: {rule.name}: {rule.signal}={value:g} > {rule.above:g}"
                for lever in rule.levers:
                    if lever_set(lever, enabled=False, reason=reason, automatic=True):
                        done.append(f"pulled {lever} ({rule.name})")
                mine.update(pulled=True, high=0, low=0)
        else:
            mine["low"] = mine["low"] + 1 if value < rule.below else 0
            if mine["low"] >= rule.restore_checks:
                mine.update(pulled=False, high=0, low=0)
                still = {
                    lv
                    for r in active_rules
                    if state.get(r.name, {}).get("pulled")
                    for lv in r.levers
                }
                reason = f"auto: {rule.name}: {rule.signal}={value:g} < {rule.below:g}"
                for lever in rule.levers:
                    if (
                        lever not in still
                        and _pulled_automatically(lever)
                        and lever_set(lever, enabled=True, reason=reason, automatic=True)
                    ):
                        done.append(f"restored {lever} ({rule.name})")
    cache.set(STATE_KEY, state, None)
    for line in done:
        logger.warning("shedding: %s", line)
    return done


def _pulled_automatically(lever: str) -> bool:
    last = LeverChange.objects.filter(lever__name=lever).order_by("-at").first()
    return last is not None and last.automatic and not last.new


# --- reading the signals ------------------------------------------------------------------


def read_signals() -> Signals:
    """The signals now (each reader that fails gives its neutral value and a log line)."""
    p99, errors = _http_signals()
    return Signals(
        p99_ms=p99,
        error_rate=errors,
        queue_depth=_safely(_queue_depth, 0),
        db_connections=_safely(_db_connections, 0.0),
        outbox_lag_seconds=_safely(_outbox_lag, 0.0),
    )


def _safely(read, neutral):  # type: ignore[no-untyped-def]
    try:
        return read()
    except Exception as exc:
        logger.warning("shedding: a signal could not be read (%r)", exc)
        return neutral


def _registry() -> Any:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _http_totals() -> tuple[dict[str, dict[float, float]], dict[str, list[float]]]:
    """Cumulative latency buckets per route, and [requests, 5xx] per route."""
    buckets: dict[str, dict[float, float]] = defaultdict(dict)
    counts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for metric in _registry().collect():
        if metric.name == "http_request_duration_seconds":
            for sample in metric.samples:
                if sample.name.endswith("_bucket"):
                    bound = float(sample.labels["le"])
                    route = sample.labels["route"]
                    buckets[route][bound] = buckets[route].get(bound, 0.0) + sample.value
        elif metric.name == "http_requests":
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    pair = counts[sample.labels["route"]]
                    pair[0] += sample.value
                    if sample.labels["status"].startswith("5"):
                        pair[1] += sample.value
    return dict(buckets), dict(counts)


def _http_signals() -> tuple[dict[str, float], dict[str, float]]:
    """p99 and 5xx share per route since the last reading (kept in the cache)."""
    buckets, counts = _http_totals()
    previous: tuple[dict[str, dict[float, float]], dict[str, list[float]]] = cache.get(
        "shedding:http:v1"
    ) or ({}, {})
    cache.set("shedding:http:v1", (buckets, counts), None)
    before_buckets, before_counts = previous
    p99: dict[str, float] = {}
    errors: dict[str, float] = {}
    for route, bounds in buckets.items():
        delta = {b: v - before_buckets.get(route, {}).get(b, 0.0) for b, v in bounds.items()}
        total = delta.get(math.inf, 0.0)
        if total >= MIN_REQUESTS:
            wanted = 0.99 * total
            p99[route] = 1000 * min(b for b, v in delta.items() if v >= wanted)
    for route, (requests, failed) in counts.items():
        old = before_counts.get(route, [0.0, 0.0])
        n = requests - old[0]
        if n >= MIN_REQUESTS:
            errors[route] = (failed - old[1]) / n
    return p99, errors


def _queue_depth() -> int:
    url = settings.CELERY_BROKER_URL
    queues = settings.CELERY_TASK_QUEUES_ALL
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return sum(int(client.llen(q)) for q in queues)
        finally:
            client.close()
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in")
    if folder:
        return sum(1 for _ in Path(folder).glob("*.msg"))
    return 0


def _db_connections() -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*)::float / current_setting('max_connections')::float"
            " FROM pg_stat_activity"
        )
        return float(cursor.fetchone()[0])


def _outbox_lag() -> float:
    oldest = (
        OutboxEvent.objects.filter(relayed_at__isnull=True)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return 0.0 if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())


def shed_load() -> list[str]:
    """What beat runs: read the signals, apply the rules."""
    if not getattr(settings, "SHEDDING_ENABLED", True):
        return []
    return tick(read_signals())
