"""Checkout: one order across catalog, fulfillment, ordering and our windows, all or nothing.

A short sequence of named steps, each returning what undoes it (see steps.py), shaped as
reserve / confirm / release so that it still works as a saga once the apps are split:

    address  the hub serving the address (fulfillment)            nothing to undo
    pricing  today's prices of the lines (catalog)                nothing to undo
    window   hold a seat in the window (ours, own transaction)    release the seat
    stock    reserve the stock (fulfillment, own transaction)     release the reservation
    order    place the order (ordering authorizes the payment)  } one transaction: a failure
    confirm  confirm the stock and the seat, record the checkout } rolls both back, and
                                                                   voids the authorization

No stock row stays locked while the payment runs. Any failure undoes the done steps and
raises one error naming the cause; an undo that fails is not fatal, as both holds expire (and
reconciliation releases them and voids an orphaned authorization). When the database itself
failed, the outcome is read back first: a COMMIT that did happen answers placed, never runs
again.
"""

import time
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone

from catalog import services as catalog
from fulfillment import services as fulfillment
from ordering import services as ordering
from prime_now.kernel.errors import ApplicationError, ValidationError
from prime_now.kernel.money import to_decimal

from ..models import Checkout
from .addresses import address_get
from .dtos import CheckoutLine, CheckoutRequest, CheckoutResult, HeldSeat, WindowDTO
from .errors import CheckoutUnavailableError, PriceChangedError
from .idempotency import (
    PlacedCheckout,
    checkout_claim,
    checkout_outcome,
    checkout_record_failed,
    checkout_record_placed,
    connection_reset_if_broken,
    request_fingerprints,
)
from .metrics import checkout_seconds, checkouts
from .promise import delivery_lead, hub_for_address
from .steps import Steps, Undo
from .windows import window_hold, window_hold_release

logger = structlog.get_logger(__name__)

LIMITS = ordering.BASKET_LIMITS  # ordering owns the basket limits
STOCK_HOLD = timedelta(minutes=10)

STEP_NAMES = {
    "address": "the hub lookup (fulfillment)",
    "pricing": "pricing (catalog)",
    "window": "the delivery window service",
    "stock": "the stock service (fulfillment)",
    "order": "order placement (ordering)",
    "confirm": "confirming the stock and window",
}


def checkout_place(
    *, customer_id: int, idempotency_key: str, request: CheckoutRequest
) -> CheckoutResult:
    """Place an order for these lines, delivered in this window, all or nothing.

    Raises (each after undoing anything held): AddressNotServedError, WindowNotFoundError,
    WindowClosedError, WindowFullError, WindowNotServedError, ProductUnavailableError,
    PriceChangedError, InsufficientStockError (with the shortages), PaymentDeclinedError,
    CheckoutUnavailableError (a service failed; names it), IdempotencyKeyReusedError,
    CheckoutInProgressError. The same key with the same request, within 24 h, returns the first
    result (`replayed`), or raises the first error again as CheckoutFailedError (same code,
    status, message, fields) unless a service failed, in which case the checkout runs again.
    """
    request = _cleaned(_with_saved_address(customer_id, request))
    checkout, replay = checkout_claim(
        customer_id=customer_id,
        key=idempotency_key,
        request_hashes=request_fingerprints(asdict(request)),
    )
    if replay is not None:
        return replay
    steps = Steps()
    found: dict[str, str] = {"hub": ""}  # the serving hub, once the address step found it
    started = time.perf_counter()
    try:
        result = _run(steps, checkout, customer_id, request, found)
    except ApplicationError as error:
        steps.undo()
        checkout_record_failed(checkout, error, hub_code=found["hub"], step=steps.current)
        logger.info("checkout refused", code=error.code, step=steps.current)
        _count(error.code, started)
        raise
    except Exception as exc:
        unavailable = CheckoutUnavailableError(
            f"Checkout could not be completed: {STEP_NAMES[steps.current]} failed. Nothing was "
            "ordered and nothing is held for you; please try again in a moment.",
            fields={"step": steps.current},
        )
        logger.exception("checkout failed", checkout_id=checkout.pk, step=steps.current)
        # The database may be what failed (a lost connection, even a COMMIT whose outcome is
        # unknown): settle by reading back, on a fresh connection, before undoing anything.
        connection_reset_if_broken()
        try:
            placed = checkout_outcome(checkout)
        except Exception:
            logger.exception(
                "checkout outcome unknown; holds left to expire", checkout_id=checkout.pk
            )
            _count(unavailable.code, started)
            raise unavailable from exc
        if placed is not None:
            _count("placed", started)
            return placed
        steps.undo()
        checkout_record_failed(checkout, unavailable, hub_code=found["hub"], step=steps.current)
        _count(unavailable.code, started)
        raise unavailable from exc
    _count("placed", started)
    return result


def _count(outcome: str, started: float) -> None:
    checkouts.labels(outcome=outcome).inc()
    checkout_seconds.observe(time.perf_counter() - started)


def _run(
    steps: Steps,
    checkout: Checkout,
    customer_id: int,
    request: CheckoutRequest,
    found: dict[str, str],
) -> CheckoutResult:
    now = timezone.now()
    reference = f"checkout:{checkout.pk}:{checkout.attempt}"
    hub = steps.run("address", lambda: _find_hub(request))
    found["hub"] = hub.code
    structlog.contextvars.bind_contextvars(hub=hub.code)
    request = _located(request)
    priced, subtotal = steps.run("pricing", lambda: _price(request))
    seat = steps.run("window", lambda: _hold_window(request, hub.code, reference, now))
    reservation = steps.run("stock", lambda: _reserve_stock(hub.code, priced, reference))
    window = seat.window
    with transaction.atomic():
        order = steps.run(
            "order",
            lambda: _place_order(customer_id, reference, request, hub, window, priced, subtotal),
        )
        # The window as held, its seat now booked instead (nothing else changes).
        result = CheckoutResult(
            order_number=order.number,
            total=order.total,
            currency=order.currency,
            window=replace(window, booked=window.booked + 1),
        )
        lead = delivery_lead(hub=hub, lat=request.lat, lon=request.lon)
        placed = PlacedCheckout(
            hub_code=hub.code,
            window_id=window.id,
            reservation_id=reservation.id,
            order_number=order.number,
            lines=tuple(
                {
                    "product_id": p.product_id,
                    "sku": p.sku,
                    "name": p.name,
                    "quantity": p.quantity,
                    "substitution": p.substitution.value,
                    "substitute_sku": p.allowed_substitute_sku,
                }
                for p in priced
            ),
            pick_due_by=max(window.start - lead, now),
            total=order.total,
            currency=order.currency,
        )
        steps.run("confirm", lambda: _confirm(checkout, seat, placed, result))
    # The request's own line (request_finished) carries them: no line of its own at INFO.
    structlog.contextvars.bind_contextvars(order_number=order.number)
    logger.debug("checkout placed", total=str(order.total), window_id=window.id)
    return result


def _with_saved_address(customer_id: int, request: CheckoutRequest) -> CheckoutRequest:
    """The request with the saved address it names filled in (AddressNotFoundError when it
    is not the customer's)."""
    if request.address_id is None:
        return request
    saved = address_get(customer_id=customer_id, address_id=request.address_id)
    return replace(
        request,
        address=f"{saved.address}",
        postcode=saved.postcode,
        lat=saved.lat,
        lon=saved.lon,
    )


def _cleaned(request: CheckoutRequest) -> CheckoutRequest:
    """The request with its lines merged per SKU and its amounts as money; ValidationError
    for an empty or oversized basket, a blank address or payment method."""
    if not request.address.strip():
        raise ValidationError("A delivery address is required.", fields={"address": "blank"})
    if not request.payment_token.strip():
        raise ValidationError("A payment method is required.", fields={"payment_token": "blank"})
    expected = request.expected_subtotal
    return replace(
        request,
        lines=_clean_lines(request.lines),
        tip=_clean_money(request.tip, "tip"),
        expected_subtotal=None if expected is None else _clean_money(expected, "expected_subtotal"),
    )


def _clean_lines(lines: tuple[CheckoutLine, ...]) -> tuple[CheckoutLine, ...]:
    if not lines:
        raise ValidationError("Your basket is empty.", fields={"lines": "empty"})
    merged: dict[str, int] = {}
    choices: dict[str, CheckoutLine] = {}
    for index, line in enumerate(lines):
        sku = (line.sku or "").strip()
        if not sku:
            raise ValidationError(
                "Every line needs a SKU.", fields={f"lines[{index}].sku": "blank"}
            )
        if not isinstance(line.quantity, int) or line.quantity < 1:
            raise ValidationError(
                "Quantities must be whole numbers of at least 1.",
                fields={f"lines[{index}].quantity": line.quantity},
            )
        merged[sku] = merged.get(sku, 0) + line.quantity
        choices.setdefault(sku, line)
    if len(merged) > LIMITS.max_lines:
        raise ValidationError(f"At most {LIMITS.max_lines} different items per order.")
    too_many = {sku: q for sku, q in merged.items() if q > LIMITS.max_line_quantity}
    if too_many:
        raise ValidationError(
            f"At most {LIMITS.max_line_quantity} of one item per order.",
            fields={"quantities": too_many},
        )
    return tuple(
        CheckoutLine(
            sku=sku,
            quantity=q,
            substitution=choices[sku].substitution,
            substitute_sku=(choices[sku].substitute_sku or "").strip(),
        )
        for sku, q in sorted(merged.items())
    )


def _clean_money(value: Decimal | int | str, field: str) -> Decimal:
    try:
        amount = to_decimal(value)
    except (ValueError, TypeError):
        raise ValidationError(f"{field} is not an amount.", fields={field: str(value)})
    if amount < 0:
        raise ValidationError(f"{field} cannot be negative.", fields={field: str(amount)})
    return amount


# --- The steps ------------------------------------------------------------------------------
# Each step returns its value and what undoes it (None: nothing, or its transaction's rollback).


def _find_hub(request: CheckoutRequest) -> tuple[fulfillment.HubDTO, None]:
    hub = hub_for_address(postcode=request.postcode or None, lat=request.lat, lon=request.lon)
    return hub, None


CENTROID_SECONDS = 300  # postcodes do not move: each process keeps their centres a while


def _centroid(postcode: str) -> tuple[float, float] | None:
    """fulfillment's postcode centre, kept in this process's cache (no query per checkout)."""
    key = f"delivery:centroid:{''.join(postcode.split()).upper()}"
    known: tuple[float, ...] | None = caches["local"].get(key)
    if known is None:
        known = fulfillment.postcode_centroid(postcode=postcode) or ()
        caches["local"].set(key, known, CENTROID_SECONDS)
    return (known[0], known[1]) if known else None


def _located(request: CheckoutRequest) -> CheckoutRequest:
    """The request with a location: its own coordinates, else its postcode's centre (so the
    courier's geofence and proof of delivery apply to every order), else none (logged)."""
    if request.lat is not None and request.lon is not None:
        return request
    centre = _centroid(request.postcode) if request.postcode else None
    if centre is None:
        logger.warning("checkout: no location for postcode %r; no geofence", request.postcode)
        return request
    return replace(request, lat=centre[0], lon=centre[1])


def _price(
    request: CheckoutRequest,
) -> tuple[tuple[tuple[ordering.OrderLineInput, ...], Decimal], None]:
    """Today's prices of the lines; PriceChangedError when they no longer make the subtotal
    the customer saw."""
    chosen = [line.substitute_sku for line in request.lines if _specific(line)]
    products = catalog.products_by_skus(skus=[line.sku for line in request.lines] + chosen)
    unknown = [
        line.sku
        for line in request.lines
        if line.sku not in products or not products[line.sku].active
    ]
    if unknown:
        raise ordering.ProductUnavailableError(
            "Some items are no longer sold: " + ", ".join(unknown) + ".",
            fields={"skus": unknown},
        )
    priced = tuple(
        ordering.OrderLineInput(
            product_id=products[line.sku].id,
            sku=line.sku,
            name=products[line.sku].name,
            unit_price=products[line.sku].price,
            quantity=line.quantity,
            substitution=choice,
            allowed_substitute_sku=line.substitute_sku if _specific(line) else "",
        )
        for line, choice in zip(request.lines, _substitutions(request.lines, products), strict=True)
    )
    subtotal = sum((line.unit_price * line.quantity for line in priced), Decimal("0.00"))
    expected = request.expected_subtotal
    if expected is not None and subtotal != expected:
        raise PriceChangedError(
            f"Your basket now comes to {subtotal} instead of {expected}.",
            fields={
                "subtotal": str(subtotal),
                "expected_subtotal": str(expected),
                "prices": {line.sku: str(line.unit_price) for line in priced},
            },
        )
    return (priced, subtotal), None


def _specific(line: CheckoutLine) -> bool:
    return line.substitution == ordering.SubstitutionChoice.SPECIFIC


def _substitutions(
    lines: tuple[CheckoutLine, ...], products: dict[str, catalog.ProductDTO]
) -> list[ordering.SubstitutionChoice]:
    """Each line's choice (the department's default when the customer made none);
    SubstitutionChoiceError for a specific substitute that cannot stand in."""
    choices = []
    for index, line in enumerate(lines):
        if line.substitution is None:
            choices.append(ordering.default_substitution(products[line.sku]))
            continue
        if _specific(line):
            substitute = products.get(line.substitute_sku)
            if substitute is None or not substitute.active or line.substitute_sku == line.sku:
                raise ordering.SubstitutionChoiceError(
                    f"{line.substitute_sku or 'No product'} cannot stand in for {line.sku}.",
                    fields={f"lines[{index}].substitute_sku": line.substitute_sku},
                )
        choices.append(ordering.SubstitutionChoice(line.substitution))
    return choices


def _hold_window(
    request: CheckoutRequest, hub_code: str, reference: str, now: datetime
) -> tuple[HeldSeat, Undo]:
    seat = window_hold(window_id=request.window_id, reference=reference, hub_code=hub_code, now=now)
    return seat, lambda: window_hold_release(hold_id=seat.hold_id)


def _reserve_stock(
    hub_code: str, priced: tuple[ordering.OrderLineInput, ...], reference: str
) -> tuple[fulfillment.ReservationDTO, Undo]:
    try:
        reservation = fulfillment.stock_reserve(
            hub_code=hub_code,
            lines=[
                fulfillment.StockLine(product_id=line.product_id, quantity=line.quantity)
                for line in sorted(priced, key=lambda line: line.product_id)
            ],
            hold_for=STOCK_HOLD,
            reference=reference,
        )
    except fulfillment.InsufficientStockError as error:
        raise _named_shortages(error, priced) from error
    return reservation, lambda: fulfillment.stock_reservation_release(
        reservation_id=reservation.id, reason="checkout did not complete"
    )


def _named_shortages(
    error: fulfillment.InsufficientStockError, priced: tuple[ordering.OrderLineInput, ...]
) -> fulfillment.InsufficientStockError:
    """The shortages by SKU, as the customer knows the lines."""
    skus = {line.product_id: line.sku for line in priced}
    short = [
        {
            "sku": skus.get(s.product_id, str(s.product_id)),
            "requested": s.requested,
            "available": s.available,
        }
        for s in error.shortages
    ]
    return fulfillment.InsufficientStockError(
        "Not enough in stock: "
        + ", ".join(f"{s['sku']} ({s['available']} left)" for s in short)
        + ".",
        shortages=error.shortages,
        fields={"shortages": short},
    )


def _place_order(
    customer_id: int,
    reference: str,
    request: CheckoutRequest,
    hub: fulfillment.HubDTO,
    window: WindowDTO,
    priced: tuple[ordering.OrderLineInput, ...],
    subtotal: Decimal,
) -> tuple[ordering.OrderDTO, Undo]:
    """The order, with its payment authorized. Undone by its transaction's rollback, and the
    authorization by a void (a processor's hold does not roll back with our transaction)."""
    order = ordering.order_place(
        customer_id=customer_id,
        idempotency_key=reference,
        lines=priced,
        delivery=ordering.DeliverySnapshot(
            address=request.address.strip(),
            postcode=request.postcode,
            lat=request.lat,
            lon=request.lon,
            hub_code=hub.code,
            window_id=window.id,
            window_start=window.start,
            window_end=window.end,
            window_kind=window.kind,
        ),
        delivery_fee=window.fee_for(subtotal),
        tip=request.tip,
        payment_token=request.payment_token,
        partner_key=request.partner_key,
    )
    return order, lambda: _void_unless_placed(order.payment_reference)


def _void_unless_placed(reference: str) -> None:
    connection_reset_if_broken()
    ordering.authorization_void(reference=reference)


def _confirm(
    checkout: Checkout, seat: HeldSeat, placed: PlacedCheckout, result: CheckoutResult
) -> tuple[None, None]:
    """Confirm the stock reservation, book the held seat and record the placed checkout.
    Undone by its transaction's rollback."""
    fulfillment.stock_reservation_confirm(reservation_id=placed.reservation_id)
    checkout_record_placed(checkout, hold_id=seat.hold_id, placed=placed, result=result)
    return None, None
