"""Transport's reactions: the pick started, the order was packed (dispatch a courier), the
order was cancelled (stop dispatching). Each runs once per event (the bus records it) and is
idempotent on its own too."""

import logging

from fulfillment.events import OrderPacked, PickStarted
from ordering.events import OrderCancelled
from ordering.services import (
    IllegalTransitionError,
    OrderStatus,
    PickedLineInput,
    order_get,
    order_mark_picking,
    order_record_packed,
)
from prime_now.kernel.bus import subscribe

from ..transport.dispatcher import job_cancel_for_order
from ..transport.offers import job_dispatch_packed_order

logger = logging.getLogger(__name__)


def on_pick_started(event: PickStarted) -> None:
    # Events travel as separate tasks: if OrderPacked got here first, the order is past this.
    if order_get(number=event.order_ref).status == OrderStatus.PLACED:
        order_mark_picking(number=event.order_ref)


def on_order_packed(event: OrderPacked) -> None:
    picked = [
        PickedLineInput(
            sku=line.sku,
            picked_quantity=line.picked_quantity,
            substitute_sku=line.substitute_sku or None,
            substitute_quantity=line.substitute_quantity,
        )
        for line in event.lines
    ]
    try:
        order = order_record_packed(number=event.order_ref, picked=picked)
    except IllegalTransitionError:
        # Cancelled while the hub packed it: nothing to dispatch, and the cancellation
        # already put the packed goods back (pick_job_cancel). Retrying would only fail again.
        if order_get(number=event.order_ref).status == OrderStatus.CANCELLED:
            logger.info("order %s was cancelled before it was packed: not dispatched",
                        event.order_ref)  # fmt: skip
            return
        raise
    job_dispatch_packed_order(
        order_number=event.order_ref,
        hub_code=event.hub_code,
        bags=event.bags,
        skus=tuple(line.sku for line in event.lines),
        order=order,
    )


def on_order_cancelled(event: OrderCancelled) -> None:
    job_cancel_for_order(order_number=event.order_number)


def register() -> None:
    """Subscribe this module's handlers (prime_now.kernel.bus.subscribe)."""
    subscribe(PickStarted, on_pick_started)
    subscribe(OrderPacked, on_order_packed)
    subscribe(OrderCancelled, on_order_cancelled)
