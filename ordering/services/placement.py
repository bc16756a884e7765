"""Placing an order, as four steps: check the request (a Placement), answer a retry with the
order its key already placed, authorize the total (undone by a void), and write the order
(undone by its own rollback). Money rules: see pricing.py."""

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from prime_now.kernel import bus
from prime_now.kernel.errors import ValidationError
from prime_now.kernel.money import Money, default_currency

from ..events import OrderPlaced
from ..metrics import orders_placed
from ..models import (
    Order,
    OrderLine,
    OrderTimelineEntry,
    Payment,
    PaymentOperation,
    PaymentOperationKind,
)
from ..payments import Authorization, CardDeclined, ProviderUnavailable, provider_get
from ..statuses import CANCELLABLE, OrderStatus, PaymentStatus
from . import conf, pricing
from .dtos import (
    BASKET_LIMITS,
    DeliverySnapshot,
    IdempotencyKeyReusedError,
    OrderDTO,
    OrderLineDTO,
    OrderLineInput,
    PaymentDeclinedError,
    PaymentUnavailableError,
    TimelineEntryDTO,
)
from .orders import order_dto, orders_with_details
from .transitions import SYSTEM

logger = logging.getLogger(__name__)
Undo = Callable[[], None]
PLACED_REASON = "Order placed."
# Unambiguous when read aloud or typed: no 0/O, 1/I/L, U.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_DRAWS = 8


def order_place(
    *,
    customer_id: int,
    idempotency_key: str,
    lines: Sequence[OrderLineInput],
    delivery: DeliverySnapshot,
    delivery_fee: Decimal,
    tip: Decimal,
    payment_token: str,
    partner_key: str = "",
) -> OrderDTO:
    """Authorize the total and record the order; publishes OrderPlaced.

    Placing again with the same customer and key returns the first order (and charges
    nothing more); the same key with other details raises IdempotencyKeyReusedError.
    `partner_key` is the prefix of the partner API key placing it for a partner's customer.
    """
    placement = replace(
        _placement(customer_id, idempotency_key, lines, delivery, delivery_fee, tip),
        partner_key=partner_key,
    )
    earlier = _earlier_order(placement)
    if earlier is not None:
        return earlier
    hold, void = _authorize(placement, payment_token)
    try:
        order = _write(placement, hold)
    except BaseException:
        void()
        raise
    orders_placed.inc()
    return order


# --- 1. The request, checked ------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """A checked order_place request: what is written, and what makes a retry "the same"."""

    customer_id: int
    key: str
    lines: tuple[pricing.PricedLine, ...]
    delivery: DeliverySnapshot  # address and postcode stripped
    delivery_fee: Decimal
    tip: Decimal
    subtotal: Decimal
    total: Decimal
    currency: str
    fingerprint: str
    partner_key: str = ""

    @property
    def payment_key(self) -> str:
        """The provider's idempotency key: a retry of the same request gets the same hold."""
        return f"order:{self.customer_id}:{self.key}:{self.fingerprint[:16]}"


def _placement(
    customer_id: int,
    idempotency_key: str,
    lines: Sequence[OrderLineInput],
    delivery: DeliverySnapshot,
    delivery_fee: Decimal,
    tip: Decimal,
) -> Placement:
    key = (idempotency_key or "").strip()
    if not 1 <= len(key) <= 128:
        raise ValidationError(
            "An idempotency key of 1 to 128 characters is required.",
            fields={"idempotency_key": "1 to 128 characters."},
        )
    priced = tuple(pricing.price_lines(lines, limits=BASKET_LIMITS))
    fee = pricing.amount(delivery_fee, field="delivery_fee")
    tip_amount = pricing.amount(tip, field="tip", maximum=conf.max_tip())
    _validate_delivery(delivery)
    subtotal = pricing.subtotal(priced)
    return Placement(
        customer_id=customer_id,
        key=key,
        lines=priced,
        delivery=replace(
            delivery, address=delivery.address.strip(), postcode=delivery.postcode.strip()
        ),
        delivery_fee=fee,
        tip=tip_amount,
        subtotal=subtotal,
        total=pricing.total(subtotal=subtotal, delivery_fee=fee, tip=tip_amount),
        currency=default_currency(),
        fingerprint=_fingerprint(lines, delivery, fee, tip_amount),
    )


def _validate_delivery(delivery: DeliverySnapshot) -> None:
    errors = {}
    if not delivery.address.strip():
        errors["address"] = "Required."
    if not delivery.hub_code.strip():
        errors["hub_code"] = "Required."
    if delivery.window_end <= delivery.window_start:
        errors["window_end"] = "Must be after the window start."
    if timezone.is_naive(delivery.window_start) or timezone.is_naive(delivery.window_end):
        errors["window_start"] = "Must be timezone-aware."
    if errors:
        raise ValidationError("The delivery details are not valid.", fields=errors)


def _fingerprint(
    lines: Sequence[OrderLineInput],
    delivery: DeliverySnapshot,
    delivery_fee: Decimal,
    tip: Decimal,
) -> str:
    """What "the same request" means for an idempotency key. The payment token is left out on
    purpose: it is never stored, not even hashed."""
    body = {
        "lines": [
            [
                ln.product_id,
                ln.sku,
                ln.name,
                str(ln.unit_price),
                ln.quantity,
                str(ln.substitution),
                ln.allowed_substitute_sku,
            ]
            for ln in lines
        ],
        "delivery": [
            delivery.address,
            delivery.postcode,
            delivery.lat,
            delivery.lon,
            delivery.hub_code,
            delivery.window_id,
            delivery.window_start.isoformat(),
            delivery.window_end.isoformat(),
            delivery.window_kind,
        ],
        "delivery_fee": str(delivery_fee),
        "tip": str(tip),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# --- 2. A retry: the order this key placed ----------------------------------------------------


def _earlier_order(placement: Placement) -> OrderDTO | None:
    """The order this customer placed with this key (a retry), None when there is none; a
    customer unknown or inactive is refused. Nothing is authorized before this answer."""
    customer = (
        get_user_model()
        .objects.filter(pk=placement.customer_id)
        .annotate(
            placed_before=Exists(
                Order.objects.filter(customer_id=OuterRef("pk"), idempotency_key=placement.key)
            )
        )
        .values_list("placed_before", "is_active")
        .first()
    )
    if customer is not None and customer[0]:
        earlier = _replay(placement)
        if earlier is not None:
            return earlier
    if customer is None or not customer[1]:
        raise ValidationError("Unknown customer.", fields={"customer_id": "Unknown."})
    return None


def _replay(placement: Placement) -> OrderDTO | None:
    order = (
        orders_with_details()
        .filter(customer_id=placement.customer_id, idempotency_key=placement.key)
        .first()
    )
    if order is None:
        return None
    if order.request_fingerprint != placement.fingerprint:
        raise IdempotencyKeyReusedError(
            f"The idempotency key was already used for order {order.number} with other details.",
            fields={"idempotency_key": placement.key},
        )
    return order_dto(order)


# --- 3. The payment: authorized, undone by a void ---------------------------------------------


@dataclass(frozen=True)
class Hold:
    provider: str
    authorization: Authorization


def _authorize(placement: Placement, payment_token: str) -> tuple[Hold, Undo]:
    """Hold the total on the card; returns the hold and what releases it."""
    provider = provider_get()
    try:
        authorization = provider.authorize(
            token=payment_token,
            amount_minor=Money(placement.total, placement.currency).to_minor(),
            currency=placement.currency,
            idempotency_key=placement.payment_key,
        )
    except CardDeclined as exc:
        raise _declined(exc.reason) from exc
    except ProviderUnavailable as exc:
        raise PaymentUnavailableError() from exc

    def void() -> None:
        try:
            provider.void(reference=authorization.reference)
        except Exception:  # the hold expires at the processor anyway; say so and go on
            logger.warning(
                "ordering: could not void authorization %s", authorization.reference, exc_info=True
            )

    return Hold(provider=provider.name, authorization=authorization), void


def _declined(reason: str) -> PaymentDeclinedError:
    if reason == "insufficient_funds":
        return PaymentDeclinedError(
            "Your card has insufficient funds. Please use another card.",
            code="insufficient_funds",
            fields={"payment_token": reason},
        )
    return PaymentDeclinedError(code="payment_declined", fields={"payment_token": reason})


# --- 4. The order: written all or nothing -----------------------------------------------------


def _write(placement: Placement, hold: Hold) -> OrderDTO:
    """Write the order under a fresh number. The unique (customer, key) constraint has the
    last word: when a concurrent retry with the same key wrote first, its order is the answer
    (it holds the same authorization: same payment key); a number already taken is drawn
    again."""
    for _draw in range(NUMBER_DRAWS):
        placed = _insert(placement, hold, _new_number())
        if placed is not None:
            return placed
        earlier = _replay(placement)
        if earlier is not None:
            return earlier
    raise RuntimeError("Could not draw a free order number")


def _new_number() -> str:
    pick = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"PN-{pick[:4]}-{pick[4:]}"


# Hand-written for speed (docs/performance.md): the order's rows in its five tables, and
# OrderPlaced (the kernel's outbox_insert), in one statement that does nothing when the order
# conflicts (same key or number). The ORM's six INSERTs doubled order_place's CPU.
_PLACE = f"""
    WITH placed AS (
        INSERT INTO {Order._meta.db_table}
               (number, customer_id, partner_key, status, idempotency_key, request_fingerprint,
                currency,
                subtotal, delivery_fee, tip, total, address, postcode, lat, lon, hub_code,
                window_id, window_start, window_end, window_kind, placed_at, updated_at)
        VALUES (%(number)s, %(customer)s, %(partner_key)s, %(status)s, %(key)s, %(fingerprint)s,
                %(currency)s,
                %(subtotal)s, %(fee)s, %(tip)s, %(total)s, %(address)s, %(postcode)s, %(lat)s,
                %(lon)s, %(hub)s, %(window)s, %(window_start)s, %(window_end)s,
                %(window_kind)s, %(now)s, %(now)s)
        ON CONFLICT DO NOTHING
        RETURNING id
    ),
    lines AS (
        INSERT INTO {OrderLine._meta.db_table}
               (order_id, position, product_id, sku, name, unit_price, quantity,
                substitute_sku, substitute_name, substitute_quantity, line_total,
                substitution, allowed_substitute_sku, substitute_decision)
        SELECT placed.id, v.position, v.product_id, v.sku, v.name, v.unit_price, v.quantity,
               '', '', 0, v.line_total, v.substitution, v.allowed, ''
          FROM placed,
               unnest(%(positions)s::smallint[], %(products)s::bigint[], %(skus)s::text[],
                      %(names)s::text[], %(prices)s::numeric[], %(quantities)s::integer[],
                      %(line_totals)s::numeric[], %(substitutions)s::text[],
                      %(allowed)s::text[])
                   AS v (position, product_id, sku, name, unit_price, quantity, line_total,
                         substitution, allowed)
    ),
    payment AS (
        INSERT INTO {Payment._meta.db_table}
               (order_id, provider, reference, card_brand, status, currency,
                authorized_amount, captured_amount, refunded_amount, created_at, updated_at)
        SELECT placed.id, %(provider)s, %(reference)s, %(brand)s, %(payment_status)s,
               %(currency)s, %(total)s, 0, 0, %(now)s, %(now)s
          FROM placed
        RETURNING id
    ),
    operation AS (
        INSERT INTO {PaymentOperation._meta.db_table} (payment_id, kind, amount, at)
        SELECT payment.id, %(operation)s, %(total)s, %(now)s FROM payment
    ),
    entry AS (
        INSERT INTO {OrderTimelineEntry._meta.db_table}
               (order_id, from_status, status, at, actor, reason)
        SELECT placed.id, '', %(status)s, %(now)s, %(actor)s, %(reason)s FROM placed
    ),
    outbox AS ({bus.outbox_insert("placed")})
    SELECT id FROM placed
"""


def _insert(placement: Placement, hold: Hold, number: str) -> OrderDTO | None:
    """The order, its lines, payment (with its ledger's first entry), first timeline entry
    and OrderPlaced, in one statement (atomic on its own: no savepoint); None, writing
    nothing, when the order conflicts with another (same key or same number). The DTO is
    built from the values written."""
    now = timezone.now()
    event = bus.stage(
        OrderPlaced(
            order_number=number,
            customer_id=placement.customer_id,
            hub_code=placement.delivery.hub_code,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(_PLACE, _place_params(placement, hold, number, now) | event.params)
        if cursor.fetchone() is None:
            return None
    bus.staged_written(event)
    return _placed_dto(placement, hold, number, now)


def _place_params(placement: Placement, hold: Hold, number: str, now: datetime) -> dict[str, Any]:
    delivery, lines = placement.delivery, placement.lines
    return {
        "number": number,
        "customer": placement.customer_id,
        "partner_key": placement.partner_key,
        "status": OrderStatus.PLACED.value,
        "key": placement.key,
        "fingerprint": placement.fingerprint,
        "currency": placement.currency,
        "subtotal": placement.subtotal,
        "fee": placement.delivery_fee,
        "tip": placement.tip,
        "total": placement.total,
        "address": delivery.address,
        "postcode": delivery.postcode,
        "lat": delivery.lat,
        "lon": delivery.lon,
        "hub": delivery.hub_code,
        "window": delivery.window_id,
        "window_start": delivery.window_start,
        "window_end": delivery.window_end,
        "window_kind": delivery.window_kind,
        "now": now,
        "positions": list(range(1, len(lines) + 1)),
        "products": [line.product_id for line in lines],
        "skus": [line.sku for line in lines],
        "names": [line.name for line in lines],
        "prices": [line.unit_price for line in lines],
        "quantities": [line.quantity for line in lines],
        "line_totals": [line.line_total for line in lines],
        "substitutions": [line.substitution.value for line in lines],
        "allowed": [line.allowed_substitute_sku for line in lines],
        "provider": hold.provider,
        "reference": hold.authorization.reference,
        "brand": hold.authorization.brand,
        "payment_status": PaymentStatus.AUTHORIZED.value,
        "operation": PaymentOperationKind.AUTHORIZE.value,
        "actor": SYSTEM,
        "reason": PLACED_REASON,
    }


def _placed_dto(placement: Placement, hold: Hold, number: str, now: datetime) -> OrderDTO:
    """The order just written, as order_get would read it back."""
    return OrderDTO(
        number=number,
        customer_id=placement.customer_id,
        status=OrderStatus.PLACED,
        lines=tuple(
            OrderLineDTO(
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                quantity=line.quantity,
                picked_quantity=None,
                substitute_sku="",
                substitute_name="",
                substitute_unit_price=None,
                missing=False,
                line_total=line.line_total,
                product_id=line.product_id,
                substitution=line.substitution,
                allowed_substitute_sku=line.allowed_substitute_sku,
            )
            for line in placement.lines
        ),
        subtotal=placement.subtotal,
        delivery_fee=placement.delivery_fee,
        tip=placement.tip,
        total=placement.total,
        currency=placement.currency,
        delivery=placement.delivery,
        placed_at=now,
        payment_status=PaymentStatus.AUTHORIZED,
        timeline=(
            TimelineEntryDTO(status=OrderStatus.PLACED, at=now, actor=SYSTEM, reason=PLACED_REASON),
        ),
        cancellable=OrderStatus.PLACED in CANCELLABLE,
        amount_authorized=placement.total,
        card_brand=hold.authorization.brand,
        payment_reference=hold.authorization.reference,
        partner_key=placement.partner_key,
    )
