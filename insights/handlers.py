"""The facts the funnel follows. Small and idempotent: each calls recording."""

from django.utils import timezone

from delivery.events import CheckoutRefused
from fulfillment.events import OrderPacked
from ordering.events import OrderCancelled, OrderPlaced, OrderStatusChanged
from prime_now.kernel.bus import subscribe

from . import recording


def on_checkout_refused(event: CheckoutRefused) -> None:
    recording.refused(
        reference=event.reference,
        hub_code=event.hub_code,
        reason=event.reason,
        at=event.at or timezone.now(),
    )


def on_order_placed(event: OrderPlaced) -> None:
    recording.placed(order_number=event.order_number)


def on_order_status_changed(event: OrderStatusChanged) -> None:
    recording.status_changed(
        order_number=event.order_number, status=event.status, at=event.at or timezone.now()
    )


def on_order_cancelled(event: OrderCancelled) -> None:
    recording.cancelled(order_number=event.order_number, by=event.by, at=timezone.now())


def on_order_packed(event: OrderPacked) -> None:
    short = any(
        line.picked_quantity + line.substitute_quantity < line.ordered_quantity
        for line in event.lines
    )
    if short:
        recording.packed_short(order_number=event.order_ref, at=timezone.now())


def register() -> None:
    subscribe(CheckoutRefused, on_checkout_refused)
    subscribe(OrderPlaced, on_order_placed)
    subscribe(OrderStatusChanged, on_order_status_changed)
    subscribe(OrderCancelled, on_order_cancelled)
    subscribe(OrderPacked, on_order_packed)
