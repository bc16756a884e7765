"""The canary's judge: error rate, p99 and too little traffic, read from Prometheus text."""

import math

from prime_now.release.canary import Limits, Sample, parse, verdict

METRICS = """\
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/api/v1/catalog/departments",status="200"} 90.0
http_requests_total{method="GET",route="/api/v1/catalog/departments",status="500"} 10.0
http_requests_total{method="GET",route="/readyz",status="200"} 40.0
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1",route="/api/v1/catalog/departments"} 95.0
http_request_duration_seconds_bucket{le="0.5",route="/api/v1/catalog/departments"} 99.0
http_request_duration_seconds_bucket{le="1.0",route="/api/v1/catalog/departments"} 100.0
http_request_duration_seconds_bucket{le="+Inf",route="/api/v1/catalog/departments"} 100.0
http_request_duration_seconds_bucket{le="+Inf",route="/readyz"} 40.0
"""
LIMITS = Limits(max_error_rate=0.01, max_p99=0.25, min_requests=20)


def test_requests_and_errors_are_counted_without_the_probes():
    sample = parse(METRICS)
    assert (sample.requests, sample.errors) == (100.0, 10.0)


def test_p99_is_the_bucket_holding_the_99th_percentile():
    assert parse(METRICS).p99 == 0.5


def test_a_difference_of_two_scrapes_counts_what_happened_between():
    later = Sample(requests=150, errors=10, buckets={0.1: 140, math.inf: 150})
    between = later - parse(METRICS)
    assert (between.requests, between.errors) == (50, 0)


def test_errors_above_the_rate_roll_back_at_once():
    assert verdict(Sample(requests=100, errors=2), LIMITS, finished=False).startswith("error rate")


def test_one_error_in_fewer_than_the_minimum_requests_rolls_back():
    assert verdict(Sample(requests=5, errors=1), LIMITS, finished=False)


def test_a_healthy_canary_stays_while_watched():
    sample = Sample(requests=5, errors=0, buckets={0.1: 5, math.inf: 5})
    assert verdict(sample, LIMITS, finished=False) == ""


def test_too_little_traffic_is_nothing_to_judge_and_rolls_back():
    sample = Sample(requests=5, errors=0, buckets={0.1: 5, math.inf: 5})
    assert verdict(sample, LIMITS, finished=True).startswith("only 5 requests")


def test_a_slow_canary_rolls_back_when_the_watch_ends():
    sample = Sample(requests=100, errors=0, buckets={0.1: 50, 0.5: 100, math.inf: 100})
    assert verdict(sample, LIMITS, finished=True).startswith("p99 0.500s")


def test_a_healthy_canary_passes_when_the_watch_ends():
    sample = Sample(requests=100, errors=0, buckets={0.1: 100, math.inf: 100})
    assert verdict(sample, LIMITS, finished=True) == ""
