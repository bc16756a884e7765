"""Checkout's counters (Prometheus): attempts by outcome and how long a checkout takes."""

from prometheus_client import Counter, Histogram

checkouts = Counter(
    "delivery_checkouts_total",
    "Checkout attempts by outcome (placed, or the error's code)",
    ["outcome"],
)
checkout_seconds = Histogram(
    "delivery_checkout_seconds",
    "A checkout's duration, placed or refused",
    buckets=(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0),
)
