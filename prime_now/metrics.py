"""Prometheus metrics: request counts and latency per route, plus every app's own counters.

`/metrics` answers staff users and the addresses in METRICS_ALLOWED_IPS (loopback by default;
a scraper elsewhere is allowed there). With PROMETHEUS_MULTIPROC_DIR set (`make run` sets it)
the figures of all gunicorn and Celery processes on the machine are added up.
"""

import os
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from prime_now.kernel.levers import declared, lever_states

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


class ResilienceCollector(Collector):
    """State read at scrape time (the same in every process, so not summed across them):
    `lever_on{lever,owner,criticality}` 1 while the feature is served, 0 while shed."""

    def collect(self):  # type: ignore[no-untyped-def]
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


RESILIENCE = ResilienceCollector()
REGISTRY.register(RESILIENCE)


def metrics(request: HttpRequest) -> HttpResponse:
    allowed = request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_IPS
    if not (allowed or (request.user.is_authenticated and request.user.is_staff)):
        return HttpResponseForbidden("Metrics are for operators.")
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(RESILIENCE)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
