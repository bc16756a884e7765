"""What the canary is judged on: readiness, error rate and p99, read from its own endpoints.

Each version's web processes share one metrics directory of their own, so `/metrics` on the
canary's port counts the canary's requests only. The judge compares two scrapes (the one when
the canary took its share, and now); the probes' own routes are left out.
"""

import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

PROBES = frozenset({"/readyz", "/healthz", "/metrics"})


@dataclass(frozen=True)
class Readiness:
    ready: bool
    version: str
    detail: str


def readiness(base_url: str, *, timeout: float = 5.0) -> Readiness:
    """GET /readyz: 200 is ready; its JSON names the version and any failing check."""
    try:
        with urllib.request.urlopen(f"{base_url}/readyz", timeout=timeout) as response:
            body, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    except OSError as error:
        return Readiness(False, "", f"no answer ({error})")
    try:
        parsed = json.loads(body)
    except ValueError:
        return Readiness(False, "", f"HTTP {status}, not JSON")
    failing = {
        name: check.get("error")
        for name, check in parsed.get("checks", {}).items()
        if isinstance(check, dict) and check.get("error")
    }
    detail = f"HTTP {status}" + (f", failing: {failing}" if failing else "")
    return Readiness(status == 200, str(parsed.get("version", "")), detail)


@dataclass
class Sample:
    """Counters of one scrape: requests and 5xx, and the latency histogram's buckets."""

    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)

    def __sub__(self, earlier: "Sample") -> "Sample":
        return Sample(
            requests=self.requests - earlier.requests,
            errors=self.errors - earlier.errors,
            buckets={
                le: count - earlier.buckets.get(le, 0.0) for le, count in self.buckets.items()
            },
        )

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def p99(self) -> float:
        """The upper bound of the bucket holding the 99th percentile (0 with no requests)."""
        total = self.buckets.get(math.inf, 0.0)
        if not total:
            return 0.0
        for le in sorted(self.buckets):
            if self.buckets[le] >= 0.99 * total:
                return le
        return math.inf


def parse(text: str) -> Sample:
    sample = Sample()
    for family in text_string_to_metric_families(text):
        for metric in family.samples:
            route = metric.labels.get("route", "")
            if route in PROBES:
                continue
            if metric.name == "http_requests_total":
                sample.requests += metric.value
                if metric.labels.get("status", "").startswith("5"):
                    sample.errors += metric.value
            elif metric.name == "http_request_duration_seconds_bucket":
                le = float(metric.labels["le"])
                sample.buckets[le] = sample.buckets.get(le, 0.0) + metric.value
    return sample


def scrape(base_url: str, *, token: str, timeout: float = 5.0) -> Sample:
    request = urllib.request.Request(
        f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return parse(response.read().decode())


@dataclass(frozen=True)
class Limits:
    seconds: float = 120.0  # how long the canary is watched before promotion
    share: int = 10  # its share of the traffic, percent
    max_error_rate: float = 0.01  # 5xx per request
    max_p99: float = 1.0  # seconds
    min_requests: int = 20  # fewer, and there is nothing to judge: roll back
    max_unready: int = 3  # /readyz failing this many times in a row


def verdict(seen: Sample, limits: Limits, *, finished: bool) -> str:
    """Why the canary must go ("" while it may stay). Errors count at once, against at least
    `min_requests`; latency and too little traffic are judged when the watch is over."""
    if seen.errors > limits.max_error_rate * max(seen.requests, limits.min_requests):
        return (
            f"error rate {seen.errors:.0f}/{seen.requests:.0f} requests above "
            f"{limits.max_error_rate:.1%}"
        )
    if not finished:
        return ""
    if seen.requests < limits.min_requests:
        return f"only {seen.requests:.0f} requests in the watch, fewer than {limits.min_requests}"
    if seen.p99 > limits.max_p99:
        return f"p99 {seen.p99:.3f}s above {limits.max_p99:.3f}s"
    return ""
