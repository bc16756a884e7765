"""Facts the ordering app publishes (see docs/doors.md)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from prime_now.kernel.bus import Event

from .statuses import OrderStatus


@dataclass(frozen=True)
class OrderPlaced(Event):
    """An order was placed, its total authorized."""

    order_number: str
    customer_id: int
    hub_code: str


@dataclass(frozen=True)
class OrderCancelled(Event):
    """Delivery reacts: releases the window and asks fulfillment to release the stock."""

    order_number: str
    hub_code: str
    reason: str = ""
    by: str = "system"  # who cancelled: "customer", "operator" or "system"


@dataclass(frozen=True)
class SubstitutesProposed(Event):
    """The picker put substitutes in the bag: the customer may accept or reject each one
    until the courier leaves the hub."""

    order_number: str
    customer_id: int
    skus: tuple[str, ...]  # the order lines that got a substitute


@dataclass(frozen=True)
class SubstituteRejected(Event):
    """The customer rejected a substitute: it is not charged and goes back to the hub."""

    order_number: str
    hub_code: str
    sku: str  # the order line
    substitute_sku: str
    quantity: int


@dataclass(frozen=True)
class OrderRefunded(Event):
    """Part of a delivered order was refunded (a reported problem); a full refund is
    OrderStatusChanged(REFUNDED)."""

    order_number: str
    customer_id: int
    amount: Decimal
    problem_id: int
    sku: str


@dataclass(frozen=True)
class OrderStatusChanged(Event):
    """An order's status changed (once per change)."""

    order_number: str
    status: OrderStatus
    at: datetime | None = None  # when it changed
