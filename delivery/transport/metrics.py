"""Dispatch counters (Prometheus): flagged jobs, offers by outcome (made, accepted,
declined, expired), deliveries by outcome (on time, late, failed), and the stage latencies a
customer feels."""

from prometheus_client import Counter, Histogram

jobs_flagged = Counter(
    "delivery_jobs_flagged_total", "Delivery jobs flagged for dispatchers", ["reason"]
)
offers_answered = Counter("delivery_offers_total", "Offers by outcome", ["outcome"])
deliveries_finished = Counter(
    "delivery_jobs_finished_total", "Finished jobs by outcome", ["outcome"]
)

MINUTES = (60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200)
stage_seconds = Histogram(
    "delivery_stage_seconds",
    "Stage latencies: packed_to_accepted (a courier took it), accepted_to_delivered",
    ["stage"],
    buckets=MINUTES,
)
window_margin = Histogram(
    "delivery_window_margin_seconds",
    "The window's end minus the delivery time: below 0 is late",
    buckets=(-3600, -1800, -900, -300, 0, 300, 900, 1800, 3600, 7200),
)
