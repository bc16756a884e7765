"""The customer's answer to a picker's substitute, until the courier leaves the hub.

Accepted, it stays on the bill. Rejected, it is not charged (the line is billed for what was
picked of the item itself, the hold on the card shrinks at once) and SubstituteRejected tells
delivery to have the hub take it back. What is still unanswered when the courier leaves is
accepted: the customer has the bag in hand and may still report a problem.
"""

from django.db import transaction

from prime_now.kernel import bus
from prime_now.kernel.money import to_decimal

from ..events import SubstituteRejected
from ..models import Order, OrderLine
from ..statuses import OrderStatus, SubstituteDecision
from . import charges, pricing
from .dtos import OrderDTO, SubstituteDecisionError
from .orders import order_get, order_locked
from .transitions import Actor, actor_for, timeline_add

S = OrderStatus
# Until the courier picks the bags up (packed -> out for delivery).
OPEN = (S.PICKING, S.PACKED)


def order_substitute_decide(
    *, number: str, sku: str, accept: bool, customer_id: int | None = None
) -> OrderDTO:
    """Accept or reject the substitute on the order line `sku`. The same answer again is a
    no-op; a different one, or any answer once the courier has left, raises
    SubstituteDecisionError. With customer_id, only that customer's order is found."""
    decision = SubstituteDecision.ACCEPTED if accept else SubstituteDecision.REJECTED
    with transaction.atomic():
        order = order_locked(number, customer_id)
        line = OrderLine.objects.select_for_update().filter(order=order, sku=sku).first()
        if line is None or not line.substitute_quantity:
            raise SubstituteDecisionError(
                "No substitute was picked for that item.", fields={"sku": sku}
            )
        if line.substitute_decision == decision:
            return order_get(number=order.number)
        if line.substitute_decision != SubstituteDecision.PROPOSED or order.status not in OPEN:
            raise _closed(order, line)
        actor = actor_for(customer_id or order.customer_id, "customer")
        if accept:
            _accept(order, line, actor)
        else:
            _reject(order, line, actor)
    return order_get(number=order.number)


def _closed(order: Order, line: OrderLine) -> SubstituteDecisionError:
    if order.status not in OPEN:
        return SubstituteDecisionError(
            "The courier has left the hub with your order; you can report a problem with an "
            "item once it is delivered.",
            code="courier_left",
            fields={"status": order.status},
        )
    return SubstituteDecisionError(
        f"You already {line.substitute_decision} this substitute.",
        fields={"substitute_decision": line.substitute_decision},
    )


def _accept(order: Order, line: OrderLine, actor: Actor) -> None:
    line.substitute_decision = SubstituteDecision.ACCEPTED
    line.save(update_fields=["substitute_decision"])
    timeline_add(
        order,
        order.status,
        reason=f"Substitute {line.substitute_name} for {line.name} accepted.",
        actor=actor,
    )


def _reject(order: Order, line: OrderLine, actor: Actor) -> None:
    line.substitute_decision = SubstituteDecision.REJECTED
    line.line_total = pricing.picked_line_total(
        unit_price=line.unit_price,
        picked_quantity=line.picked_quantity or 0,
        substitute_unit_price=None,
        substitute_quantity=0,
    )
    line.save(update_fields=["substitute_decision", "line_total"])
    order.subtotal = pricing.subtotal(order.lines.all())
    order.total = pricing.total(
        subtotal=order.subtotal, delivery_fee=order.delivery_fee, tip=order.tip
    )
    order.save(update_fields=["subtotal", "total", "updated_at"])
    _payment, released = charges.reduce_to_total(order)
    timeline_add(
        order,
        order.status,
        reason=(
            f"Substitute {line.substitute_name} for {line.name} rejected: not charged, "
            f"{to_decimal(released)} {order.currency} released; new total "
            f"{order.total} {order.currency}."
        ),
        actor=actor,
    )
    bus.publish(
        SubstituteRejected(
            order_number=order.number,
            hub_code=order.hub_code,
            sku=line.sku,
            substitute_sku=line.substitute_sku,
            quantity=line.substitute_quantity,
        )
    )
