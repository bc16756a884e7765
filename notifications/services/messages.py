"""What each fact means to the customer, in words: one Message per fact, read from the owning
apps' doors when it is handled (so the email shows the order as it is now)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from delivery import services as delivery
from fulfillment import services as fulfillment
from ordering import services as ordering

from ..kinds import NotificationKind
from .dtos import Message

K = NotificationKind
S = ordering.OrderStatus

# The statuses a customer is told about, and how.
STATUS_KINDS = {
    S.PACKED: K.PACKED,
    S.OUT_FOR_DELIVERY: K.OUT_FOR_DELIVERY,
    S.DELIVERED: K.DELIVERED,
    S.DELIVERY_FAILED: K.DELIVERY_FAILED,
    S.CANCELLED: K.CANCELLED,
    S.REFUNDED: K.REFUNDED,
}


def order_link(number: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/orders/{number}/"


def _clock(order: ordering.OrderDTO, at: datetime) -> str:
    try:
        zone = fulfillment.hub_get(code=order.delivery.hub_code).timezone
    except fulfillment.HubNotFoundError:
        zone = "UTC"
    return at.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def _money(order: ordering.OrderDTO, amount: object) -> str:
    return f"{amount} {order.currency}"


def _message(
    order: ordering.OrderDTO, kind: NotificationKind, key: str, title: str, lines: list[str]
) -> Message:
    body = "\n".join([*lines, "", f"Your order: {order_link(order.number)}"])
    return Message(
        user_id=order.customer_id,
        kind=kind,
        key=f"{order.number}:{key}",
        title=title,
        body=body,
        order_number=order.number,
    )


def order_placed(number: str) -> Message:
    order = ordering.order_get(number=number)
    window = (
        f"{_clock(order, order.delivery.window_start)}–{_clock(order, order.delivery.window_end)}"
    )
    items = sum(line.quantity for line in order.lines)
    return _message(
        order,
        K.ORDER_PLACED,
        "placed",
        f"Order {order.number} is placed",
        [
            f"Thank you! {items} item{'s' if items != 1 else ''}, "
            f"{_money(order, order.total)} held on your card.",
            f"Delivery {window} to {order.delivery.address}.",
        ],
    )


def substitutes_proposed(number: str, skus: tuple[str, ...]) -> Message:
    order = ordering.order_get(number=number)
    swaps = [
        f"- {line.name}: {line.substitute_quantity} × {line.substitute_name} at "
        f"{_money(order, line.substitute_unit_price)}"
        for line in order.lines
        if line.sku in skus and line.substitute_quantity
    ]
    return _message(
        order,
        K.SUBSTITUTES_PROPOSED,
        "substitutes:" + ",".join(sorted(skus)),
        f"Order {order.number}: please check your substitute{'s' if len(swaps) != 1 else ''}",
        [
            "Some items were out of stock, so your shopper picked these instead:",
            *swaps,
            "Keep or reject each one on your order page until the courier leaves the shop; "
            "a rejected substitute is not charged.",
        ],
    )


def status_changed(number: str, status: ordering.OrderStatus) -> Message | None:
    kind = STATUS_KINDS.get(status)
    if kind is None:
        return None
    order = ordering.order_get(number=number)
    title, lines = _status_words(order, status)
    return _message(order, kind, status.value, title, lines)


def _status_words(order: ordering.OrderDTO, status: ordering.OrderStatus) -> tuple[str, list[str]]:
    n = order.number
    if status == S.PACKED:
        return f"Order {n} is packed", ["Your order is packed and waiting for a courier."]
    if status == S.OUT_FOR_DELIVERY:
        return f"Order {n} is on its way", [_eta_line(order)]
    if status == S.DELIVERED:
        return f"Order {n} was delivered", [
            f"Enjoy! We charged {_money(order, order.amount_captured)} to your card.",
            *_substitution_summary(order),
        ]
    if status == S.DELIVERY_FAILED:
        reason = _reason(order, status)
        return f"We could not deliver order {n}", [
            f"Your order could not be delivered{': ' + reason if reason else ''}. "
            "Nothing was charged.",
        ]
    if status == S.CANCELLED:
        return f"Order {n} is cancelled", ["Your order is cancelled; you are not charged."]
    return f"Order {n} is refunded", [
        f"We refunded {_money(order, order.amount_refunded)} to your card.",
    ]


def _eta_line(order: ordering.OrderDTO) -> str:
    tracking = delivery.tracking_for(order_number=order.number, customer_id=order.customer_id)
    who = tracking.courier_name or "Your courier"
    if tracking.eta is None:
        return f"{who} has your order and is on the way."
    return f"{who} has your order and expects to be with you at {_clock(order, tracking.eta)}."


def _substitution_summary(order: ordering.OrderDTO) -> list[str]:
    words = {
        ordering.SubstituteDecision.ACCEPTED: "kept",
        ordering.SubstituteDecision.REJECTED: "rejected, not charged",
        ordering.SubstituteDecision.PROPOSED: "kept",
    }
    return [
        f"- {line.name} → {line.substitute_name}: {words[line.substitute_decision]}"
        for line in order.lines
        if line.substitute_decision is not None
    ]


def _reason(order: ordering.OrderDTO, status: ordering.OrderStatus) -> str:
    reasons = [entry.reason for entry in order.timeline if entry.status == status and entry.reason]
    return reasons[-1] if reasons else ""


def running_late(number: str, expected_at: datetime) -> Message:
    order = ordering.order_get(number=number)
    return _message(
        order,
        K.RUNNING_LATE,
        "late",
        f"Order {order.number} is running late",
        [
            f"Sorry: we now expect to reach you at about {_clock(order, expected_at)}, after "
            f"your window ends at {_clock(order, order.delivery.window_end)}.",
        ],
    )


def part_refunded(number: str, sku: str, amount: object, problem_id: int) -> Message:
    order = ordering.order_get(number=number)
    name = next((line.name for line in order.lines if line.sku == sku), sku)
    return _message(
        order,
        K.REFUNDED,
        f"refund:{problem_id}",
        f"Order {order.number}: {_money(order, amount)} refunded",
        [f"Sorry about {name}. We refunded {_money(order, amount)} to your card."],
    )
