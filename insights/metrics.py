"""The funnel's counters (Prometheus); the rates over windows are read from the table at
scrape time (prime_now.metrics)."""

from prometheus_client import Counter

ATTEMPTS = Counter(
    "order_checkout_attempts_total", "Checkout attempts with a well-formed basket", ["hub"]
)
DROPS = Counter(
    "order_drops_total",
    "Attempts not delivered within their window, by reason",
    ["reason", "stage"],
)
