"""The notifications seam: each fact a customer cares about becomes one message per channel.
Registered in NotificationsConfig.ready(); each handler runs once per event (the bus), and
`notify` is idempotent on its own too (one row per customer, key and channel)."""

from delivery.events import DeliveryRunningLate
from ordering.events import OrderPlaced, OrderRefunded, OrderStatusChanged, SubstitutesProposed
from prime_now.kernel.bus import subscribe

from .services import messages
from .services.sending import notify


def on_order_placed(event: OrderPlaced) -> None:
    notify(message=messages.order_placed(event.order_number))


def on_substitutes_proposed(event: SubstitutesProposed) -> None:
    notify(message=messages.substitutes_proposed(event.order_number, event.skus))


def on_status_changed(event: OrderStatusChanged) -> None:
    message = messages.status_changed(event.order_number, event.status)
    if message is not None:
        notify(message=message)


def on_running_late(event: DeliveryRunningLate) -> None:
    notify(message=messages.running_late(event.order_number, event.expected_at))


def on_order_refunded(event: OrderRefunded) -> None:
    notify(
        message=messages.part_refunded(
            event.order_number, event.sku, event.amount, event.problem_id
        )
    )


def register() -> None:
    subscribe(OrderPlaced, on_order_placed)
    subscribe(SubstitutesProposed, on_substitutes_proposed)
    subscribe(OrderStatusChanged, on_status_changed)
    subscribe(DeliveryRunningLate, on_running_late)
    subscribe(OrderRefunded, on_order_refunded)
