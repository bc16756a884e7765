"""The façade's reactions to other apps' facts. Small and idempotent: each calls a service."""

from fulfillment.events import StockChanged
from ordering.events import OrderCancelled, OrderPlaced, SubstituteRejected
from prime_now.kernel.bus import subscribe

from ..facade.promise_cache import promise_invalidate
from ..facade.reactions import checkout_cancel, checkout_pick_job_create, substitute_take_back


def on_order_placed(event: OrderPlaced) -> None:
    checkout_pick_job_create(order_number=event.order_number)


def on_order_cancelled(event: OrderCancelled) -> None:
    checkout_cancel(order_number=event.order_number)


def on_substitute_rejected(event: SubstituteRejected) -> None:
    substitute_take_back(order_number=event.order_number, sku=event.sku)


def on_stock_changed(event: StockChanged) -> None:
    promise_invalidate(hub_code=event.hub_code)


def register() -> None:
    """Subscribe this module's handlers (prime_now.kernel.bus.subscribe)."""
    subscribe(OrderPlaced, on_order_placed)
    subscribe(OrderCancelled, on_order_cancelled)
    subscribe(StockChanged, on_stock_changed)
    subscribe(SubstituteRejected, on_substitute_rejected)
