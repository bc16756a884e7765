"""What the picker found: picked, substituted or missing per line; the totals follow, and the
difference is released on the card at once (a partial reversal of the hold)."""

from collections.abc import Collection, Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from catalog import services as catalog
from prime_now.kernel import bus
from prime_now.kernel.money import to_decimal

from ..events import SubstitutesProposed
from ..models import Order, OrderLine, Payment
from ..statuses import OrderStatus, SubstituteDecision, SubstitutionChoice
from . import charges, pricing
from .dtos import IllegalTransitionError, OrderDTO, PickAdjustmentError, PickedLineInput
from .orders import order_dto, order_get, order_locked
from .transitions import PACK, START_PICKING, step, timeline_add

S = OrderStatus
_STATUS_ONLY = ("status", "updated_at")  # what a transition changes
_PICK_TOTALS = ("subtotal", "total", "picked_at", "updated_at")
_PICK_FIELDS = (
    "picked_quantity",
    "substitute_quantity",
    "substitute_product_id",
    "substitute_sku",
    "substitute_name",
    "substitute_unit_price",
    "substitute_decision",
    "line_total",
)


def order_adjust_after_pick(*, number: str, picked: Sequence[PickedLineInput]) -> OrderDTO:
    """Record what the picker found for every line (picked, substituted, missing), recompute
    the totals and release the difference on the card (a partial reversal of the hold).

    Substitutes are charged at their catalog price, but never above the ordered item's unit
    price. Every order line must be reported. Sending the same picks again is a no-op; other
    picks after the first are refused (an authorization can shrink, never grow back).
    """
    with transaction.atomic():
        order = order_locked(number)
        _adjust(order, picked)
    return order_get(number=order.number)


def order_record_packed(*, number: str, picked: Sequence[PickedLineInput]) -> OrderDTO:
    """The hub packed the order: start picking if nobody said so yet, record the picks (as
    `order_adjust_after_pick`) and mark it packed, under one row lock. Idempotent: the same
    picks again change nothing. The DTO is built from the rows this call holds (only the
    timeline, and the payment when the picks were already recorded, are read)."""
    with transaction.atomic():
        order = order_locked(number)
        if order.status == S.PLACED:  # PickStarted not handled yet
            step(order, START_PICKING, fields=_STATUS_ONLY)
        lines, payment = _adjust(order, picked, save_order=False)
        # One UPDATE of the order for the picks and the status together.
        step(order, PACK, fields=_STATUS_ONLY + _PICK_TOTALS)
        if payment is None:
            payment = Payment.objects.get(order=order)
        timeline = list(order.timeline.order_by("at", "id"))
    return order_dto(
        order,
        lines=sorted(lines, key=lambda line: line.position),
        timeline=timeline,
        payment=payment,
    )


def _adjust(
    order: Order, picked: Sequence[PickedLineInput], *, save_order: bool = True
) -> tuple[list[OrderLine], Payment | None]:
    """Record the picks on the locked order. Returns its lines (as now saved) and its payment
    when this call read it (None when the same picks were already recorded). `save_order`:
    False when the caller saves the order's `_PICK_TOTALS` itself, with its next change."""
    lines = {line.sku: line for line in order.lines.all()}
    picks = _validate_picks(lines, picked)
    if order.picked_at is not None:
        if all(_same_pick(lines[sku], pick) for sku, pick in picks.items()):
            return list(lines.values()), None
        raise IllegalTransitionError(
            f"Order {order.number} was already adjusted after picking.",
            code="already_adjusted",
        )
    if order.status not in (S.PLACED, S.PICKING):
        raise IllegalTransitionError(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            "picking can no longer be adjusted.",
            fields={"status": order.status},
        )
    _apply(lines, picks)
    OrderLine.objects.bulk_update(lines.values(), _PICK_FIELDS)
    order.subtotal = pricing.subtotal(lines.values())
    order.total = pricing.total(
        subtotal=order.subtotal, delivery_fee=order.delivery_fee, tip=order.tip
    )
    order.picked_at = timezone.now()
    if save_order:
        order.save(update_fields=_PICK_TOTALS)
    payment, released = charges.reduce_to_total(order)
    missing = sum(line.missing_quantity for line in lines.values())
    substituted = sum(line.substitute_quantity for line in lines.values())
    reason = (
        f"Picked: {missing} missing, {substituted} substituted; "
        f"{to_decimal(released)} {order.currency} released."
    )
    timeline_add(order, order.status, reason=reason)
    proposed = tuple(sku for sku, line in lines.items() if line.substitute_quantity)
    if proposed:
        bus.publish(
            SubstitutesProposed(
                order_number=order.number, customer_id=order.customer_id, skus=proposed
            )
        )
    return list(lines.values()), payment


def _apply(lines: dict[str, OrderLine], picks: dict[str, PickedLineInput]) -> None:
    """Set each line's picked fields and its new total (not saved)."""
    substitutes = _substitutes(picks.values())
    for sku, pick in picks.items():
        line = lines[sku]
        sub = substitutes.get(pick.substitute_sku or "") if pick.substitute_quantity else None
        line.picked_quantity = pick.picked_quantity
        line.substitute_quantity = pick.substitute_quantity if sub else 0
        line.substitute_decision = SubstituteDecision.PROPOSED if sub else ""
        line.substitute_product_id = sub.id if sub else None
        line.substitute_sku = sub.sku if sub else ""
        line.substitute_name = sub.name if sub else ""
        line.substitute_unit_price = (
            pricing.substitute_price(ordered=line.unit_price, catalog=sub.price) if sub else None
        )
        line.line_total = pricing.picked_line_total(
            unit_price=line.unit_price,
            picked_quantity=pick.picked_quantity,
            substitute_unit_price=line.substitute_unit_price,
            substitute_quantity=line.substitute_quantity,
        )


def _same_pick(line: OrderLine, pick: PickedLineInput) -> bool:
    sub_qty = pick.substitute_quantity if pick.substitute_sku else 0
    return (
        line.picked_quantity == pick.picked_quantity
        and (line.substitute_sku or "") == ((pick.substitute_sku or "") if sub_qty else "")
        and line.substitute_quantity == sub_qty
    )


def _pick_error(line: OrderLine, pick: PickedLineInput) -> str | None:
    sub_qty = pick.substitute_quantity if pick.substitute_sku else 0
    if pick.picked_quantity < 0 or pick.substitute_quantity < 0:
        return "Quantities cannot be negative."
    if pick.substitute_quantity and not pick.substitute_sku:
        return "A substitute quantity needs a substitute SKU."
    if pick.picked_quantity + sub_qty > line.quantity:
        return f"More than the {line.quantity} ordered."
    if pick.substitute_sku == pick.sku and sub_qty:
        return "A product cannot substitute itself."
    if sub_qty and line.substitution == SubstitutionChoice.NONE:
        return "The customer asked for no substitute."
    if (
        sub_qty
        and line.substitution == SubstitutionChoice.SPECIFIC
        and pick.substitute_sku != line.allowed_substitute_sku
    ):
        return f"The customer allowed only {line.allowed_substitute_sku} as a substitute."
    return None


def _validate_picks(
    lines: dict[str, OrderLine], picked: Sequence[PickedLineInput]
) -> dict[str, PickedLineInput]:
    errors: dict[str, str] = {}
    picks: dict[str, PickedLineInput] = {}
    for pick in picked:
        if pick.sku in picks:
            errors[pick.sku] = "Reported twice."
        elif pick.sku not in lines:
            errors[pick.sku] = "Not on this order."
        else:
            error = _pick_error(lines[pick.sku], pick)
            if error is not None:
                errors[pick.sku] = error
            picks[pick.sku] = pick
    for sku in lines.keys() - picks.keys():
        errors[sku] = "Not reported."
    if errors:
        raise PickAdjustmentError(fields=errors)
    return picks


def _substitutes(picks: Iterable[PickedLineInput]) -> dict[str, catalog.ProductDTO]:
    skus = {p.substitute_sku for p in picks if p.substitute_sku and p.substitute_quantity}
    if not skus:
        return {}
    found = catalog.products_by_skus(skus=skus)
    unknown: Collection[str] = sorted(skus - found.keys())
    if unknown:
        raise PickAdjustmentError(
            "A substitute is not a known product.",
            fields=dict.fromkeys(unknown, "Unknown substitute."),
        )
    return found
