"""Facts the fulfillment app publishes (see docs/doors.md)."""

from dataclasses import dataclass

from prime_now.kernel.bus import Event


@dataclass(frozen=True)
class PickStarted(Event):
    """A picker claimed the order's pick job."""

    order_ref: str
    hub_code: str


@dataclass(frozen=True)
class OrderPacked(Event):
    """The order is picked and bagged. `lines` has every ordered line:
    {"sku", "ordered_quantity", "picked_quantity", "substitute_sku", "substitute_quantity"}
    (`substitute_sku` is "" when none)."""

    order_ref: str
    hub_code: str
    bags: int
    lines: tuple[dict, ...]


@dataclass(frozen=True)
class StockChanged(Event):
    """On-hand changed (received, adjusted, damaged, returned, counted) or products went out
    of stock / back in stock at the hub."""

    hub_code: str
    product_ids: tuple[int, ...]
