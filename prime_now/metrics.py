"""Prometheus metrics: request counts and latency per route, every app's own counters, and the
state read at scrape time (outbox backlog, queue depths, levers, the build).

`/metrics` answers a scraper sending `Authorization: Bearer <METRICS_TOKEN>` and staff
sessions; nobody else, whatever address they come from (a proxy on the same host would make
every visitor look local). With PROMETHEUS_MULTIPROC_DIR set (`make run` sets it) the counters
of all gunicorn and Celery processes on the machine are added up; the state gauges are read
once, by the process that answers the scrape.
"""

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from kombu import Connection
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from insights import services as insights
from prime_now.kernel.breakers import STATE_VALUES, breaker_states
from prime_now.kernel.bus import outbox_backlog
from prime_now.kernel.levers import declared, lever_states

logger = logging.getLogger(__name__)

REQUESTS = Counter("http_requests_total", "HTTP requests served", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["route"])


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        # The URL pattern, not the path: one series per route, whatever the ids in it.
        match = request.resolver_match
        route = f"/{match.route}" if match else "unmatched"
        LATENCY.labels(route).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response


def _build() -> Iterator[Metric]:
    info = GaugeMetricFamily(
        "prime_now_build_info", "The build this process runs (always 1)", labels=["version"]
    )
    info.add_metric([settings.BUILD_VERSION], 1)
    yield info


def _outbox() -> Iterator[Metric]:
    pending, age = outbox_backlog()
    yield GaugeMetricFamily(
        "outbox_pending_events", "Events written but not handed to the broker yet", value=pending
    )
    yield GaugeMetricFamily(
        "outbox_oldest_pending_age_seconds",
        "Age of the oldest event not handed to the broker (0 when none waits)",
        value=age,
    )


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue, asked of the broker."""
    conf = current_app.conf
    lengths: dict[str, int] = {}
    with Connection(
        conf.broker_url, transport_options=conf.broker_transport_options, connect_timeout=2
    ) as connection:
        channel = connection.default_channel
        for queue in settings.CELERY_TASK_QUEUES_ALL:
            _name, waiting, _consumers = channel.queue_declare(queue=queue, durable=True)
            lengths[queue] = waiting
    return lengths


def _queues() -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "celery_queue_length", "Messages waiting in each Celery queue", labels=["queue"]
    )
    for queue, waiting in queue_lengths().items():
        depth.add_metric([queue], waiting)
    yield depth


def _levers() -> Iterator[Metric]:
    """`lever_on{lever,owner,criticality}`: 1 while the lever's feature is served, 0 while shed
    (the same in every process, so read once, not summed)."""
    levers = GaugeMetricFamily(
        "lever_on",
        "1: the lever's feature is served, 0: shed",
        labels=["lever", "owner", "criticality"],
    )
    states = lever_states() or {}
    for name, spec in sorted(declared().items()):
        on = states.get(name, spec.default if states else spec.safe)
        levers.add_metric([name, spec.owner, str(spec.criticality)], 1.0 if on else 0.0)
    yield levers


def _breakers() -> Iterator[Metric]:
    """`breaker_state{breaker}`: 0 closed, 1 half-open, 2 open (shared through the cache)."""
    circuits = GaugeMetricFamily(
        "breaker_state", "0 closed, 1 half-open, 2 open", labels=["breaker"]
    )
    for name, state in breaker_states().items():
        circuits.add_metric([name], float(STATE_VALUES[state]))
    yield circuits


# The drop rate over these windows, read from insights' table at each scrape.
DROP_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}


def _drop_rate() -> Iterator[Metric]:
    rate = GaugeMetricFamily(
        "order_drop_rate", "Dropped / checkout attempts over the window", labels=["window"]
    )
    attempts = GaugeMetricFamily(
        "order_attempts", "Checkout attempts over the window", labels=["window"]
    )
    drops = GaugeMetricFamily(
        "order_drops", "Dropped attempts over the window by reason", labels=["window", "reason"]
    )
    now = timezone.now()
    for window, length in DROP_WINDOWS.items():
        found = insights.drop_rate(since=now - length, until=now)
        rate.add_metric([window], found.rate)
        attempts.add_metric([window], found.attempts)
        for reason, count in found.reasons.items():
            drops.add_metric([window, reason], count)
    yield from (rate, attempts, drops)


# What is read at each scrape. Another part (dead letters, breakers, the funnel) adds its own
# reader here with `state_source`; one that fails is logged and skipped, never the whole scrape.
STATE_SOURCES: list[Callable[[], Iterable[Metric]]] = [
    _build, _outbox, _queues, _levers, _breakers, _drop_rate,
]  # fmt: skip


def state_source(reader: Callable[[], Iterable[Metric]]) -> Callable[[], Iterable[Metric]]:
    """Register a reader of gauges computed at scrape time."""
    if reader not in STATE_SOURCES:
        STATE_SOURCES.append(reader)
    return reader


class StateCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        for reader in STATE_SOURCES:
            try:
                yield from list(reader())
            except Exception:
                logger.exception("metrics: %s failed", reader.__name__)


def _authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    return bool(request.user.is_authenticated and request.user.is_staff)


def _counted() -> CollectorRegistry:
    """The processes' counters and histograms: this process's, or all of them summed."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def quantile(histogram: str, share: float) -> float | None:
    """The upper bound of the bucket holding this share of a histogram's observations (all
    label sets together), as Prometheus' histogram_quantile would bound it; None when empty."""
    buckets: dict[float, float] = {}
    for family in _counted().collect():
        if family.name != histogram:
            continue
        for sample in family.samples:
            if sample.name == f"{histogram}_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    total = buckets.get(float("inf"), 0.0)
    if not total:
        return None
    return next(bound for bound in sorted(buckets) if buckets[bound] >= share * total)


def exposition() -> bytes:
    """Every metric in Prometheus' text format, summed over processes when multiprocess."""
    return generate_latest(_counted()) + generate_latest(_STATE_REGISTRY)


_STATE_REGISTRY = CollectorRegistry(auto_describe=False)
_STATE_REGISTRY.register(StateCollector())


def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        if request.user.is_authenticated:
            return HttpResponse("Metrics are for operators.", status=403, content_type="text/plain")
        response = HttpResponse("Metrics are for operators.", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
