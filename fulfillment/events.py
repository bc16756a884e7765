"""Facts the fulfillment app publishes (see docs/doors.md)."""

from dataclasses import dataclass

from prime_now.kernel.bus import Event

__all__ = ["OrderPacked", "PackedLine", "PickStarted", "StockChanged"]


@dataclass(frozen=True)
class PickStarted(Event):
    """A picker claimed the order's pick job."""

    order_ref: str
    hub_code: str


@dataclass(frozen=True)
class PackedLine:
    """What was packed for one ordered line: `picked_quantity` of the ordered SKU, plus
    `substitute_quantity` of `substitute_sku` ("" when no substitute was packed)."""

    sku: str
    ordered_quantity: int
    picked_quantity: int
    substitute_sku: str = ""
    substitute_quantity: int = 0


@dataclass(frozen=True)
class OrderPacked(Event):
    """The order is picked and bagged; `lines` has every ordered line, in walking order."""

    order_ref: str
    hub_code: str
    bags: int
    lines: tuple[PackedLine, ...]


@dataclass(frozen=True)
class StockChanged(Event):
    """On-hand changed (received, adjusted, damaged, returned, counted) or products went out
    of stock / back in stock at the hub."""

    hub_code: str
    product_ids: tuple[int, ...]
