"""What the façade does when ordering reports a fact (called from delivery/handlers/facade.py)."""

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog import services as catalog
from fulfillment import services as fulfillment
from ordering import services as ordering

from ..models import Checkout, CheckoutStatus
from .windows import window_booking_release

logger = logging.getLogger(__name__)
BEST_MATCH_CANDIDATES = 5


def checkout_pick_job_create(*, order_number: str) -> str | None:
    """An order was placed: ask the hub to pick it, due by the window start minus the trip.
    Idempotent (fulfillment creates one pick job per order). Returns the job id."""
    checkout = (
        Checkout.objects.filter(order_number=order_number)
        .values("status", "hub_code", "reservation_id", "lines", "pick_due_by")
        .first()
    )
    if checkout is None:
        logger.info("delivery: order %s was not placed through checkout; no pick job", order_number)
        return None
    if checkout["status"] != CheckoutStatus.PLACED:
        return None
    hub_code = checkout["hub_code"]
    return fulfillment.pick_job_create(
        order_ref=order_number,
        hub_code=hub_code,
        reservation_id=checkout["reservation_id"],
        lines=[
            fulfillment.PickLineSpec(
                product_id=line["product_id"],
                sku=line["sku"],
                name=line["name"],
                quantity=line["quantity"],
                substitute_sku=_allowed_substitute(hub_code, line),
            )
            for line in checkout["lines"]
        ],
        due_by=checkout["pick_due_by"] or timezone.now(),
    )


def _allowed_substitute(hub_code: str, line: dict[str, Any]) -> str | None:
    """The substitute the picker may use: the customer's own pick, or for a best match the
    closest in price of the same category that the hub has enough of (None: no substitute).
    Lines of checkouts from before substitutions had no choice: best match."""
    choice = ordering.SubstitutionChoice(line.get("substitution", "best_match"))
    if choice == ordering.SubstitutionChoice.NONE:
        return None
    if choice == ordering.SubstitutionChoice.SPECIFIC:
        return str(line["substitute_sku"])
    candidates = catalog.product_substitutes(sku=line["sku"], limit=BEST_MATCH_CANDIDATES)
    available = fulfillment.stock_available(
        hub_code=hub_code, product_ids=[c.id for c in candidates]
    )
    for candidate in candidates:
        if available.get(candidate.id, 0) >= line["quantity"]:
            return candidate.sku
    return None


def checkout_cancel(*, order_number: str) -> bool:
    """An order was cancelled: free its window seat, cancel its pick job and release its stock.
    Runs once per order (the checkout moves to "cancelled" under its row lock)."""
    with transaction.atomic():
        checkout = (
            Checkout.objects.select_for_update()
            .filter(order_number=order_number, status=CheckoutStatus.PLACED)
            .first()
        )
        if checkout is None:
            return False
        checkout.status = CheckoutStatus.CANCELLED
        checkout.save(update_fields=["status", "updated_at"])
        if checkout.window_id:
            window_booking_release(window_id=checkout.window_id)
        fulfillment.pick_job_cancel(order_ref=order_number)
        if checkout.reservation_id:
            fulfillment.stock_reservation_release(
                reservation_id=checkout.reservation_id, reason="order cancelled"
            )
    return True


def substitute_take_back(*, order_number: str, sku: str) -> None:
    """The customer rejected a substitute before the courier left: the hub puts it back."""
    fulfillment.substitute_return(order_ref=order_number, sku=sku)
