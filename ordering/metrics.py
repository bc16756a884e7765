"""Ordering's counters (Prometheus): orders placed, and every transition by target status."""

from prometheus_client import Counter

orders_placed = Counter("ordering_orders_placed_total", "Orders placed (payment authorized)")
transitions = Counter(
    "ordering_transitions_total", "Order status changes, by the status reached", ["status"]
)
