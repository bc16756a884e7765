"""Checkout: one order across catalog, fulfillment, ordering and our windows, all or nothing.

The steps are shaped as reserve / confirm / release so they still work as a saga once the
apps are split: hold a window seat (ours), reserve the stock (fulfillment, its own short
transaction, so no stock row stays locked while the payment runs), then in one transaction
place the order (ordering authorizes the payment) and confirm the window seat and the stock
reservation. Any failure releases what was held and raises one error naming the cause; a
release that fails itself is not fatal, as both holds expire on their own.
"""

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from catalog import services as catalog
from fulfillment import services as fulfillment
from ordering import services as ordering
from prime_now.kernel.errors import ApplicationError, UnavailableError, ValidationError
from prime_now.kernel.money import to_decimal

from ..models import Checkout, CheckoutStatus
from .dtos import CheckoutLine, CheckoutResult, WindowDTO
from .errors import (
    CheckoutFailedError,
    CheckoutInProgressError,
    IdempotencyKeyReusedError,
    PriceChangedError,
)
from .idempotency import KEY_TTL, STALE_AFTER, request_fingerprint
from .promise import hub_for_address
from .travel import travel_time
from .windows import (
    CONFIRM_HOLD_CTE,
    window_get,
    window_hold,
    window_hold_confirm,
    window_hold_release,
)

logger = logging.getLogger(__name__)

MAX_LINES = 100
MAX_QUANTITY = 50
STOCK_HOLD = timedelta(minutes=10)

STEP_NAMES = {
    "window": "the delivery window service",
    "address": "the hub lookup (fulfillment)",
    "pricing": "pricing (catalog)",
    "stock": "the stock service (fulfillment)",
    "order": "order placement (ordering)",
    "confirm": "confirming the stock and window",
}


class CheckoutUnavailableError(UnavailableError):
    code = "checkout_unavailable"


@dataclass(frozen=True)
class _PricedLine:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int


def _clean_lines(lines: Sequence[CheckoutLine]) -> tuple[CheckoutLine, ...]:
    if not lines:
        raise ValidationError("Your basket is empty.", fields={"lines": "empty"})
    merged: dict[str, int] = {}
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
    if len(merged) > MAX_LINES:
        raise ValidationError(f"At most {MAX_LINES} different items per order.")
    too_many = {sku: q for sku, q in merged.items() if q > MAX_QUANTITY}
    if too_many:
        raise ValidationError(
            f"At most {MAX_QUANTITY} of one item per order.", fields={"quantities": too_many}
        )
    return tuple(CheckoutLine(sku=sku, quantity=q) for sku, q in sorted(merged.items()))


def _clean_money(value: Decimal | int | str, field: str) -> Decimal:
    try:
        amount = to_decimal(value)
    except (ValueError, TypeError):
        raise ValidationError(f"{field} is not an amount.", fields={field: str(value)})
    if amount < 0:
        raise ValidationError(f"{field} cannot be negative.", fields={field: str(amount)})
    return amount


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _replay_of(result: CheckoutResult) -> dict[str, Any]:
    """The result as stored for retries with the same key (JSON, nothing lost)."""
    return {
        "order_number": result.order_number,
        "total": str(result.total),
        "currency": result.currency,
        "window": {name: _json_value(value) for name, value in vars(result.window).items()},
    }


def _replayed(checkout: Checkout) -> CheckoutResult:
    """What the first run answered, for a retry with its key."""
    if checkout.replay is None:  # placed before results were stored: rebuilt from the record
        return CheckoutResult(
            order_number=checkout.order_number,
            total=checkout.total,
            currency=checkout.currency,
            window=window_get(window_id=checkout.window_id),
            replayed=True,
        )
    window = dict(checkout.replay["window"])
    for name in ("start", "end", "cutoff_at"):
        window[name] = datetime.fromisoformat(window[name])
    for name in ("fee", "free_above"):
        window[name] = None if window[name] is None else Decimal(window[name])
    return CheckoutResult(
        order_number=checkout.replay["order_number"],
        total=Decimal(checkout.replay["total"]),
        currency=checkout.replay["currency"],
        window=WindowDTO(**window),
        replayed=True,
    )


_TABLE = Checkout._meta.db_table
_CLAIM = f"""
    INSERT INTO {_TABLE}
           (id, customer_id, idempotency_key, request_hash, attempt, status, hub_code,
            window_id, reservation_id, order_number, lines, pick_due_by, total, currency,
            failure_code, failure_message, created_at, updated_at)
    VALUES (%s, %s, %s, %s, 1, '{CheckoutStatus.STARTED.value}', '', NULL, '', '', '[]', NULL,
            NULL, '', '', '', %s, %s)
    ON CONFLICT (customer_id, idempotency_key) DO NOTHING
    RETURNING id
"""
# The placed order recorded on the checkout, in the statement that turns the window hold into
# a booking; RETURNING says whether the hold was still held.
_PLACED = f"""
    WITH {CONFIRM_HOLD_CTE}
    UPDATE {_TABLE}
       SET status = '{CheckoutStatus.PLACED.value}', hub_code = %(hub_code)s,
           window_id = %(window_id)s, reservation_id = %(reservation_id)s,
           order_number = %(order_number)s, lines = %(lines)s::jsonb,
           pick_due_by = %(pick_due_by)s, total = %(total)s, currency = %(currency)s,
           failure_code = '', failure_message = '', replay = %(replay)s::jsonb,
           updated_at = %(now)s
     WHERE id = %(checkout)s
    RETURNING (SELECT count(*) FROM seat)
"""


def _placed(checkout: Checkout, hold_id: str, result: CheckoutResult, **fields) -> None:
    """Book the held window seat and record the placed order and its result on the checkout
    (one statement on PostgreSQL). Raises WindowFullError when the hold expired and the seat
    went meanwhile."""
    now = timezone.now()
    replay = _replay_of(result)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _PLACED,
                {
                    **fields,
                    "lines": json.dumps(fields["lines"]),
                    "replay": json.dumps(replay),
                    "now": now,
                    "checkout": checkout.pk,
                    "hold": uuid.UUID(hold_id),
                },
            )
            (seats,) = cursor.fetchone()
        if not seats:  # the hold expired meanwhile: book a free seat again, if there is one
            window_hold_confirm(hold_id=hold_id, window_id=fields["window_id"])
        return
    window_hold_confirm(hold_id=hold_id, window_id=fields["window_id"])
    Checkout.objects.filter(pk=checkout.pk).update(
        status=CheckoutStatus.PLACED,
        failure_code="",
        failure_message="",
        replay=replay,
        updated_at=now,
        **fields,
    )


def _claim(
    *, customer_id: int, key: str, request_hash: str
) -> tuple[Checkout, CheckoutResult | None]:
    """The checkout record for this key: new, or the earlier run's (its result replayed when
    placed, its error raised again when it failed for the customer's reason)."""
    for _ in range(3):
        checkout = _insert_new(customer_id=customer_id, key=key, request_hash=request_hash)
        if checkout is not None:
            return checkout, None
        existing = Checkout.objects.filter(customer_id=customer_id, idempotency_key=key).first()
        if existing is not None:
            claimed = _claim_existing(existing, key=key, request_hash=request_hash)
            if claimed is not None:
                return claimed
    raise CheckoutInProgressError()  # the key changed hands three times: let the client retry


def _insert_new(*, customer_id: int, key: str, request_hash: str) -> Checkout | None:
    """A new checkout record for the key, or None when the key is taken."""
    if connection.vendor == "postgresql":
        # One statement, no savepoint: a key already there just returns no row.
        now = timezone.now()
        checkout = Checkout(
            customer_id=customer_id,
            idempotency_key=key,
            request_hash=request_hash,
            created_at=now,
            updated_at=now,
        )
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM, [checkout.pk, customer_id, key, request_hash, now, now])
            return checkout if cursor.fetchone() else None
    try:
        # Outside a transaction the INSERT stands alone; inside one, a savepoint keeps a
        # duplicate key from breaking the caller's transaction.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            return Checkout.objects.create(
                customer_id=customer_id, idempotency_key=key, request_hash=request_hash
            )
    except IntegrityError:
        return None


def _claim_existing(
    existing: Checkout, *, key: str, request_hash: str
) -> tuple[Checkout, CheckoutResult | None] | None:
    """The earlier run with this key decides; None when its key had expired (now freed)."""
    now = timezone.now()
    running = existing.status == CheckoutStatus.STARTED and existing.updated_at > now - STALE_AFTER
    if existing.created_at <= now - KEY_TTL and not running:
        # Expired but not purged yet: free the key (as the purge would), claim it anew.
        Checkout.objects.filter(pk=existing.pk, idempotency_key=key).update(idempotency_key=None)
        return None
    if existing.request_hash != request_hash:
        raise IdempotencyKeyReusedError()
    if existing.status in (CheckoutStatus.PLACED, CheckoutStatus.CANCELLED):
        return existing, _replayed(existing)
    if existing.status == CheckoutStatus.FAILED and existing.replay is not None:
        error = existing.replay
        raise CheckoutFailedError(
            error["message"], code=error["code"], status=error["status"], fields=error["fields"]
        )
    if running:
        raise CheckoutInProgressError()
    # An earlier run failed on a service (it released what it held) or died: run again.
    restarted = Checkout.objects.filter(
        pk=existing.pk, status=existing.status, attempt=existing.attempt
    ).update(status=CheckoutStatus.STARTED, attempt=F("attempt") + 1, updated_at=now)
    if not restarted:
        raise CheckoutInProgressError()
    existing.refresh_from_db()
    return existing, None


def _price(lines: tuple[CheckoutLine, ...]) -> tuple[_PricedLine, ...]:
    products = catalog.products_by_skus(skus=[line.sku for line in lines])
    unknown = [
        line.sku for line in lines if line.sku not in products or not products[line.sku].active
    ]
    if unknown:
        raise ordering.ProductUnavailableError(
            "Some items are no longer sold: " + ", ".join(unknown) + ".",
            fields={"skus": unknown},
        )
    return tuple(
        _PricedLine(
            product_id=products[line.sku].id,
            sku=line.sku,
            name=products[line.sku].name,
            unit_price=products[line.sku].price,
            quantity=line.quantity,
        )
        for line in lines
    )


def _reserve(hub_code: str, priced: tuple[_PricedLine, ...], reference: str):
    try:
        return fulfillment.stock_reserve(
            hub_code=hub_code,
            lines=[
                fulfillment.StockLine(product_id=line.product_id, quantity=line.quantity)
                for line in sorted(priced, key=lambda line: line.product_id)
            ],
            hold_for=STOCK_HOLD,
            reference=reference,
        )
    except fulfillment.InsufficientStockError as error:
        skus = {line.product_id: line.sku for line in priced}
        short = [
            {
                "sku": skus.get(s.product_id, str(s.product_id)),
                "requested": s.requested,
                "available": s.available,
            }
            for s in error.shortages
        ]
        raise fulfillment.InsufficientStockError(
            "Not enough in stock: "
            + ", ".join(f"{s['sku']} ({s['available']} left)" for s in short)
            + ".",
            shortages=error.shortages,
            fields={"shortages": short},
        ) from error


def _undo(steps: list[Callable[[], None]]) -> None:
    for step in reversed(steps):
        try:
            step()
        except Exception:  # the hold expires on its own; never hide the original error
            logger.exception("checkout: compensation failed (the hold will expire)")


def _fail(checkout: Checkout, error: ApplicationError) -> None:
    """Record the failure; one for the customer's reason (4xx) is replayed to retries."""
    replay = {"status": error.status, **error.as_dict()} if error.status < 500 else None
    Checkout.objects.filter(pk=checkout.pk, attempt=checkout.attempt).update(
        status=CheckoutStatus.FAILED,
        failure_code=error.code,
        failure_message=error.message,
        replay=replay,
        updated_at=timezone.now(),
    )


def checkout_place(
    *,
    customer_id: int,
    idempotency_key: str,
    lines: Sequence[CheckoutLine],
    address: str,
    postcode: str,
    lat: float | None,
    lon: float | None,
    window_id: int,
    tip: Decimal,
    payment_token: str,
    expected_subtotal: Decimal | None = None,
) -> CheckoutResult:
    """Place an order for these lines, delivered in this window, all or nothing.

    Raises (each after releasing anything held): AddressNotServedError, WindowNotFoundError,
    WindowClosedError, WindowFullError, WindowNotServedError, ProductUnavailableError,
    PriceChangedError, InsufficientStockError (with the shortages), PaymentDeclinedError,
    CheckoutUnavailableError (a service failed; names it), IdempotencyKeyReusedError,
    CheckoutInProgressError. The same key with the same request, within 24 h, returns the first
    result (`replayed`), or raises the first error again as CheckoutFailedError (same code,
    status, message, fields) unless a service failed, in which case the checkout runs again.
    """
    clean = _clean_lines(lines)
    tip = _clean_money(tip, "tip")
    if expected_subtotal is not None:
        expected_subtotal = _clean_money(expected_subtotal, "expected_subtotal")
    if not (address or "").strip():
        raise ValidationError("A delivery address is required.", fields={"address": "blank"})
    if not (payment_token or "").strip():
        raise ValidationError("A payment method is required.", fields={"payment_token": "blank"})
    request_hash = request_fingerprint(
        {
            "lines": [(line.sku, line.quantity) for line in clean],
            "address": address,
            "postcode": postcode,
            "lat": lat,
            "lon": lon,
            "window_id": window_id,
            "tip": tip,
            "payment_token": payment_token,
            "expected_subtotal": expected_subtotal,
        }
    )
    checkout, replay = _claim(
        customer_id=customer_id, key=idempotency_key, request_hash=request_hash
    )
    if replay is not None:
        return replay

    undo: list[Callable[[], None]] = []
    step = "address"
    try:
        now = timezone.now()
        hub = hub_for_address(postcode=postcode or None, lat=lat, lon=lon)
        step = "pricing"
        priced = _price(clean)
        subtotal = sum((line.unit_price * line.quantity for line in priced), Decimal("0.00"))
        if expected_subtotal is not None and subtotal != expected_subtotal:
            raise PriceChangedError(
                f"Your basket now comes to {subtotal} instead of {expected_subtotal}.",
                fields={
                    "subtotal": str(subtotal),
                    "expected_subtotal": str(expected_subtotal),
                    "prices": {line.sku: str(line.unit_price) for line in priced},
                },
            )
        reference = f"checkout:{checkout.pk}:{checkout.attempt}"
        step = "window"
        seat = window_hold(window_id=window_id, reference=reference, hub_code=hub.code, now=now)
        window = seat.window
        undo.append(lambda: window_hold_release(hold_id=seat.hold_id))
        step = "stock"
        reservation = _reserve(hub.code, priced, reference)
        undo.append(
            lambda: fulfillment.stock_reservation_release(
                reservation_id=reservation.id, reason="checkout did not complete"
            )
        )
        due_by = max(
            window.start - travel_time(hub_lat=hub.lat, hub_lon=hub.lon, lat=lat, lon=lon), now
        )
        fee = window.fee_for(subtotal)
        step = "order"
        with transaction.atomic():
            order = ordering.order_place(
                customer_id=customer_id,
                idempotency_key=reference,
                lines=[
                    ordering.OrderLineInput(
                        product_id=line.product_id,
                        sku=line.sku,
                        name=line.name,
                        unit_price=line.unit_price,
                        quantity=line.quantity,
                    )
                    for line in priced
                ],
                delivery=ordering.DeliverySnapshot(
                    address=address.strip(),
                    postcode=postcode,
                    lat=lat,
                    lon=lon,
                    hub_code=hub.code,
                    window_id=window.id,
                    window_start=window.start,
                    window_end=window.end,
                    window_kind=window.kind,
                ),
                delivery_fee=fee,
                tip=tip,
                payment_token=payment_token,
            )
            step = "confirm"
            fulfillment.stock_reservation_confirm(reservation_id=reservation.id)
            # The window as held, its seat now booked instead (nothing else changes).
            result = CheckoutResult(
                order_number=order.number,
                total=order.total,
                currency=order.currency,
                window=replace(window, booked=window.booked + 1),
            )
            _placed(
                checkout,
                seat.hold_id,
                result,
                hub_code=hub.code,
                window_id=window.id,
                reservation_id=reservation.id,
                order_number=order.number,
                lines=[
                    {
                        "product_id": line.product_id,
                        "sku": line.sku,
                        "name": line.name,
                        "quantity": line.quantity,
                    }
                    for line in priced
                ],
                pick_due_by=due_by,
                total=order.total,
                currency=order.currency,
            )
    except ApplicationError as error:
        _undo(undo)
        _fail(checkout, error)
        raise
    except Exception as exc:
        _undo(undo)
        error = CheckoutUnavailableError(
            f"Checkout could not be completed: {STEP_NAMES[step]} failed. Nothing was ordered "
            "and nothing is held for you; please try again in a moment.",
            fields={"step": step},
        )
        logger.exception("checkout %s failed at %s", checkout.pk, step)
        _fail(checkout, error)
        raise error from exc
    return result
