"""Dispatch counters (Prometheus): flagged jobs, offers by outcome, deliveries by outcome."""

from prometheus_client import Counter

jobs_flagged = Counter(
    "delivery_jobs_flagged_total", "Delivery jobs flagged for dispatchers", ["reason"]
)
offers_answered = Counter("delivery_offers_total", "Offers by outcome", ["outcome"])
deliveries_finished = Counter(
    "delivery_jobs_finished_total", "Finished jobs by outcome", ["outcome"]
)
