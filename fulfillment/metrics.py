"""Fulfillment's counters (Prometheus): reservations and how they end, picks and shortages,
and the placed → packed latency."""

from prometheus_client import Counter, Histogram

reservations_made = Counter(
    "fulfillment_reservations_total", "Stock reservations asked for, by outcome", ["outcome"]
)
reservations_ended = Counter(
    "fulfillment_reservations_ended_total",
    "Reservations ended: released, expired, committed (picked)",
    ["status"],
)
pick_lines = Counter(
    "fulfillment_pick_lines_total",
    "Pick lines confirmed: picked, substituted, short, missing",
    ["outcome"],
)
placed_to_packed = Histogram(
    "fulfillment_placed_to_packed_seconds",
    "From the pick job's creation (the order placed) to packed",
    buckets=(60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200),
)
