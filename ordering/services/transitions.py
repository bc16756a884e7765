"""The order's status machine: each change runs under a row lock, does its payment effect,
writes a timeline row and publishes OrderStatusChanged (and OrderCancelled). Asking for the
status an order already has is a no-op, so every change is idempotent."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from prime_now.kernel import bus

from ..events import OrderCancelled, OrderStatusChanged
from ..metrics import transitions
from ..models import Order, OrderTimelineEntry
from ..statuses import OrderStatus, SubstituteDecision
from . import charges
from .dtos import IllegalTransitionError, OrderDTO
from .orders import order_get, order_locked

S = OrderStatus
SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    method: str  # the Order's django-fsm transition method
    target: OrderStatus
    # Before the status changes: on the payment, or on what the customer may still answer.
    effect: Callable[[Order], None] | None = None


def accept_unanswered(order: Order) -> None:
    """The courier is leaving with the bags: substitutes still unanswered are accepted."""
    waiting = list(
        order.lines.filter(substitute_decision=SubstituteDecision.PROPOSED).values_list(
            "substitute_name", flat=True
        )
    )
    if not waiting:
        return
    order.lines.filter(substitute_decision=SubstituteDecision.PROPOSED).update(
        substitute_decision=SubstituteDecision.ACCEPTED
    )
    timeline_add(
        order,
        order.status,
        reason="Substitutes accepted as the courier left the hub: " + ", ".join(waiting) + ".",
    )


START_PICKING = Transition("start_picking", S.PICKING)
PACK = Transition("pack", S.PACKED)
SEND_OUT = Transition("send_out", S.OUT_FOR_DELIVERY, accept_unanswered)
DELIVER = Transition("deliver", S.DELIVERED, charges.capture)
FAIL_DELIVERY = Transition("fail_delivery", S.DELIVERY_FAILED, charges.void)
CANCEL = Transition("cancel", S.CANCELLED, charges.void)
REFUND = Transition("refund", S.REFUNDED, charges.refund_all)


@dataclass(frozen=True)
class Actor:
    """Who made a change, as the timeline shows it ("system", "customer:ann", ...)."""

    label: str = SYSTEM
    user_id: int | None = None


SYSTEM_ACTOR = Actor()


def actor_for(user_id: int | None, role: str) -> Actor:
    if user_id is None:
        return SYSTEM_ACTOR
    username = get_user_model().objects.filter(pk=user_id).values_list("username", flat=True)
    return Actor(label=f"{role}:{username.first() or user_id}", user_id=user_id)


def timeline_add(
    order: Order, from_status: str, *, reason: str, actor: Actor = SYSTEM_ACTOR
) -> OrderTimelineEntry:
    return OrderTimelineEntry.objects.create(
        order=order,
        from_status=from_status,
        status=order.status,
        actor=actor.label[:150],
        actor_user_id=actor.user_id,
        reason=(reason or "")[:500],
    )


def step(
    order: Order,
    transition: Transition,
    *,
    reason: str = "",
    actor: Actor = SYSTEM_ACTOR,
    fields: tuple[str, ...] | None = None,
) -> None:
    """One transition of a locked order (nothing when it already has the target status).
    `fields`: the only columns this step changes (saved alone), when the caller knows them."""
    if order.status == transition.target:
        return
    method = getattr(order, transition.method)
    if not can_proceed(method):
        raise IllegalTransitionError(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            f"it cannot become {transition.target.label.lower()}.",
            fields={"status": order.status, "target": transition.target},
        )
    if transition.effect is not None:
        transition.effect(order)
    from_status = order.status
    method()
    order.save(update_fields=fields)
    timeline_add(order, from_status, reason=reason, actor=actor)
    transitions.labels(status=transition.target.value).inc()
    bus.publish(
        OrderStatusChanged(order_number=order.number, status=transition.target, at=timezone.now())
    )
    if transition.target == S.CANCELLED:
        bus.publish(
            OrderCancelled(
                order_number=order.number,
                hub_code=order.hub_code,
                reason=reason,
                by=actor.label.split(":")[0],
            )
        )


def _move(
    number: str,
    transition: Transition,
    *,
    reason: str,
    actor: Actor = SYSTEM_ACTOR,
    customer_id: int | None = None,
) -> OrderDTO:
    with transaction.atomic():
        order = order_locked(number, customer_id)
        step(order, transition, reason=reason, actor=actor)
    return order_get(number=order.number)


def order_mark_picking(*, number: str, reason: str = "") -> OrderDTO:
    """The hub started picking it (placed -> picking)."""
    return _move(number, START_PICKING, reason=reason)


def order_mark_packed(*, number: str, reason: str = "") -> OrderDTO:
    """Packed (picking -> packed); order_record_packed also records the picks."""
    return _move(number, PACK, reason=reason)


def order_mark_out_for_delivery(*, number: str, reason: str = "") -> OrderDTO:
    """Handed to the courier (packed -> out for delivery)."""
    return _move(number, SEND_OUT, reason=reason)


def order_mark_delivered(*, number: str, reason: str = "") -> OrderDTO:
    """Captures the order total (the picked amount, after any short-pick adjustment)."""
    return _move(number, DELIVER, reason=reason)


def order_mark_delivery_failed(*, number: str, reason: str) -> OrderDTO:
    """Voids the payment: nothing was handed over, nothing is charged."""
    return _move(number, FAIL_DELIVERY, reason=reason)


def order_cancel(
    *, number: str, reason: str, actor_id: int | None = None, customer_id: int | None = None
) -> OrderDTO:
    """Cancel before the order leaves the hub; voids the payment; publishes OrderCancelled
    (delivery releases the window and the stock). With customer_id, only that customer's
    order is found."""
    user_id = customer_id if actor_id is None else actor_id
    role = "customer" if customer_id is not None else "operator"
    return _move(
        number,
        CANCEL,
        reason=reason or "Cancelled.",
        actor=actor_for(user_id, role),
        customer_id=customer_id,
    )


def order_refund(*, number: str, reason: str, actor_id: int | None = None) -> OrderDTO:
    """Refund a delivered order in full (an operator's decision)."""
    return _move(number, REFUND, reason=reason, actor=actor_for(actor_id, "operator"))
