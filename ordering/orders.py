"""Order use cases: placement (idempotent, payment authorized), the status machine with its
timeline, pick adjustments, cancellation and refunds. Money rules: see ordering/pricing.py."""

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Prefetch
from django.utils import timezone
from django_fsm import can_proceed

from catalog import services as catalog
from prime_now.kernel import bus
from prime_now.kernel.errors import ValidationError as OrderValidationError
from prime_now.kernel.money import Money, default_currency, to_decimal

from . import conf, pricing
from .dtos import (
    BASKET_LIMITS,
    DeliverySnapshot,
    IdempotencyKeyReusedError,
    IllegalTransitionError,
    OrderDTO,
    OrderLineDTO,
    OrderLineInput,
    OrderNotFoundError,
    PaymentDeclinedError,
    PaymentUnavailableError,
    PickAdjustmentError,
    PickedLineInput,
    TimelineEntryDTO,
)
from .events import OrderCancelled, OrderPlaced, OrderStatusChanged
from .models import (
    CANCELLABLE,
    Order,
    OrderLine,
    OrderStatus,
    OrderTimelineEntry,
    Payment,
    PaymentOperation,
    PaymentOperationKind,
    PaymentStatus,
)
from .payments import CardDeclined, ProviderRefused, ProviderUnavailable, provider_get

logger = logging.getLogger(__name__)
S = OrderStatus
SYSTEM = "system"
PLACED_REASON = "Order placed."
ZERO = Decimal("0.00")
# Unambiguous when read aloud or typed: no 0/O, 1/I/L, U.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


# --- Reading ----------------------------------------------------------------------------------


def _queryset():
    return Order.objects.select_related("payment").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("position")),
        Prefetch("timeline", queryset=OrderTimelineEntry.objects.order_by("at", "id")),
    )


def _line_dto(line: OrderLine) -> OrderLineDTO:
    return OrderLineDTO(
        sku=line.sku,
        name=line.name,
        unit_price=line.unit_price,
        quantity=line.quantity,
        picked_quantity=line.picked_quantity,
        substitute_sku=line.substitute_sku,
        substitute_name=line.substitute_name,
        substitute_unit_price=line.substitute_unit_price,
        missing=line.missing_quantity > 0,
        line_total=line.line_total,
        product_id=line.product_id,
        substitute_quantity=line.substitute_quantity,
        missing_quantity=line.missing_quantity,
    )


def _dto(
    order: Order,
    *,
    lines: Sequence[OrderLine] | None = None,
    timeline: Sequence[OrderTimelineEntry] | None = None,
    payment: Payment | None = None,
) -> OrderDTO:
    """The order as its door shows it. A caller already holding the rows just written passes
    them (lines by position, timeline by time) instead of having them read back."""
    payment = payment if payment is not None else order.payment
    lines = lines if lines is not None else order.lines.all()
    timeline = timeline if timeline is not None else order.timeline.all()
    return OrderDTO(
        number=order.number,
        customer_id=order.customer_id,
        status=order.status,
        lines=tuple(_line_dto(line) for line in lines),
        subtotal=order.subtotal,
        delivery_fee=order.delivery_fee,
        tip=order.tip,
        total=order.total,
        currency=order.currency,
        delivery=DeliverySnapshot(
            address=order.address,
            postcode=order.postcode,
            lat=order.lat,
            lon=order.lon,
            hub_code=order.hub_code,
            window_id=order.window_id,
            window_start=order.window_start,
            window_end=order.window_end,
            window_kind=order.window_kind,
        ),
        placed_at=order.placed_at,
        payment_status=payment.status,
        timeline=tuple(
            TimelineEntryDTO(status=t.status, at=t.at, actor=t.actor, reason=t.reason)
            for t in timeline
        ),
        cancellable=order.status in CANCELLABLE,
        amount_authorized=payment.authorized_amount,
        amount_captured=payment.captured_amount,
        amount_refunded=payment.refunded_amount,
        card_brand=payment.card_brand,
    )


def _fetch(number: str, customer_id: int | None = None) -> Order:
    orders = _queryset().filter(number=number.strip().upper())
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    order = orders.first()
    if order is None:
        # The same answer whether it does not exist or is someone else's: nothing leaks.
        raise OrderNotFoundError(f"No order {number}.")
    return order


def order_get(*, number: str, customer_id: int | None = None) -> OrderDTO:
    return _dto(_fetch(number, customer_id))


def orders_for_customer(
    *, customer_id: int, limit: int = 20, before: str | None = None
) -> tuple[OrderDTO, ...]:
    """The customer's orders, newest first. `before`: an order number (the last one of the
    previous page) to continue from."""
    limit = max(1, min(limit, 100))
    orders = _queryset().filter(customer_id=customer_id).order_by("-placed_at", "-id")
    if before:
        anchor = (
            Order.objects.filter(customer_id=customer_id, number=before.strip().upper())
            .values("placed_at", "id")
            .first()
        )
        if anchor is None:
            raise OrderNotFoundError(f"No order {before}.")
        orders = orders.filter(placed_at__lte=anchor["placed_at"]).exclude(
            placed_at=anchor["placed_at"], id__gte=anchor["id"]
        )
    return tuple(_dto(order) for order in orders[:limit])


# --- Placing ----------------------------------------------------------------------------------


def _new_number() -> str:
    pick = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"PN-{pick[:4]}-{pick[4:]}"


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
            [ln.product_id, ln.sku, ln.name, str(ln.unit_price), ln.quantity] for ln in lines
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


def _replay(customer_id: int, key: str, fingerprint: str) -> OrderDTO | None:
    order = _queryset().filter(customer_id=customer_id, idempotency_key=key).first()
    if order is None:
        return None
    if order.request_fingerprint != fingerprint:
        raise IdempotencyKeyReusedError(
            f"The idempotency key was already used for order {order.number} with other details.",
            fields={"idempotency_key": key},
        )
    return _dto(order)


_LOOKUP = f"""
    SELECT EXISTS (SELECT 1 FROM {Order._meta.db_table}
                    WHERE customer_id = %s AND idempotency_key = %s),
           EXISTS (SELECT 1 FROM {get_user_model()._meta.db_table}
                    WHERE id = %s AND is_active)
"""


def _lookup(customer_id: int, key: str) -> tuple[bool, bool]:
    """(an order with this key exists, the customer exists and is active), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP, [customer_id, key, customer_id])
        placed_before, active = cursor.fetchone()
    return bool(placed_before), bool(active)


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
        raise OrderValidationError("The delivery details are not valid.", fields=errors)


def order_place(
    *,
    customer_id: int,
    idempotency_key: str,
    lines: Sequence[OrderLineInput],
    delivery: DeliverySnapshot,
    delivery_fee: Decimal,
    tip: Decimal,
    payment_token: str,
) -> OrderDTO:
    """Authorize the total and record the order; publishes OrderPlaced.

    Placing again with the same customer and key returns the first order (and charges
    nothing more); the same key with other details raises IdempotencyKeyReusedError.
    """
    key = (idempotency_key or "").strip()
    if not 1 <= len(key) <= 128:
        raise OrderValidationError(
            "An idempotency key of 1 to 128 characters is required.",
            fields={"idempotency_key": "1 to 128 characters."},
        )
    priced = pricing.price_lines(lines, limits=BASKET_LIMITS)
    fee = pricing.amount(delivery_fee, field="delivery_fee")
    tip_amount = pricing.amount(tip, field="tip", maximum=conf.max_tip())
    _validate_delivery(delivery)
    fingerprint = _fingerprint(lines, delivery, fee, tip_amount)

    placed_before, customer_active = _lookup(customer_id, key)
    if placed_before:
        replay = _replay(customer_id, key, fingerprint)
        if replay is not None:
            return replay
    if not customer_active:
        raise OrderValidationError("Unknown customer.", fields={"customer_id": "Unknown."})

    currency = default_currency()
    subtotal = pricing.subtotal(priced)
    total = pricing.total(subtotal=subtotal, delivery_fee=fee, tip=tip_amount)
    provider = provider_get()
    try:
        auth = provider.authorize(
            token=payment_token,
            amount_minor=Money(total, currency).to_minor(),
            currency=currency,
            idempotency_key=f"order:{customer_id}:{key}:{fingerprint[:16]}",
        )
    except CardDeclined as exc:
        code = "insufficient_funds" if exc.reason == "insufficient_funds" else "payment_declined"
        message = (
            "Your card has insufficient funds. Please use another card."
            if code == "insufficient_funds"
            else None
        )
        raise PaymentDeclinedError(
            message, code=code, fields={"payment_token": exc.reason}
        ) from exc
    except ProviderUnavailable as exc:
        raise PaymentUnavailableError() from exc

    try:
        for _attempt in range(8):
            number = _new_number()
            try:
                order = _record_placed(
                    number=number,
                    customer_id=customer_id,
                    key=key,
                    fingerprint=fingerprint,
                    priced=priced,
                    delivery=delivery,
                    currency=currency,
                    subtotal=subtotal,
                    fee=fee,
                    tip=tip_amount,
                    total=total,
                    provider=provider,
                    auth=auth,
                )
                if order is not None:
                    break
                # PostgreSQL: the order conflicted with another (same key, or same number).
                replay = _replay(customer_id, key, fingerprint)
                if replay is not None:
                    return replay
            except IntegrityError:
                # A concurrent request with the same key won the race; it used the same
                # authorization (same provider idempotency key), so there is nothing to
                # release.
                replay = _replay(customer_id, key, fingerprint)
                if replay is not None:
                    return replay
                if not Order.objects.filter(number=number).exists():
                    raise
                # An order number collision (the block rolled back): draw another.
        else:
            raise RuntimeError("Could not draw a free order number")
    except IntegrityError:
        raise
    except Exception:
        _release_quietly(provider, auth.reference)
        raise
    # Built from the rows just written (order, lines, payment, timeline): no read back.
    return order


def _release_quietly(provider, reference: str) -> None:
    try:
        provider.void(reference=reference)
    except Exception:  # the hold expires at the processor anyway; say so and go on
        logger.warning("ordering: could not void authorization %s", reference, exc_info=True)


def _record_placed(**placed) -> OrderDTO | None:
    """The order, its lines, payment, first timeline entry and OrderPlaced, all or nothing.
    Returns its DTO, built from the rows just written (no read back). On PostgreSQL returns
    None when the order conflicts with another one (same key or same number): nothing is
    written then."""
    if connection.vendor == "postgresql":
        return _record_placed_in_one_statement(**placed)
    return _record_placed_with_orm(**placed)


def _record_placed_with_orm(
    *,
    number,
    customer_id,
    key,
    fingerprint,
    priced,
    delivery,
    currency,
    subtotal,
    fee,
    tip,
    total,
    provider,
    auth,
) -> OrderDTO:
    """`_record_placed` in one atomic block (one savepoint inside the caller's transaction)."""
    with transaction.atomic():
        order = Order.objects.create(
            number=number,
            customer_id=customer_id,
            idempotency_key=key,
            request_fingerprint=fingerprint,
            currency=currency,
            subtotal=subtotal,
            delivery_fee=fee,
            tip=tip,
            total=total,
            address=delivery.address.strip(),
            postcode=delivery.postcode.strip(),
            lat=delivery.lat,
            lon=delivery.lon,
            hub_code=delivery.hub_code,
            window_id=delivery.window_id,
            window_start=delivery.window_start,
            window_end=delivery.window_end,
            window_kind=delivery.window_kind,
        )
        lines = OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                position=position,
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for position, line in enumerate(priced, start=1)
        )
        payment = Payment.objects.create(
            order=order,
            provider=provider.name,
            reference=auth.reference,
            card_brand=auth.brand,
            status=PaymentStatus.AUTHORIZED,
            currency=currency,
            authorized_amount=total,
        )
        PaymentOperation.objects.create(
            payment=payment, kind=PaymentOperationKind.AUTHORIZE, amount=total
        )
        entry = _timeline(order, "", S.PLACED, actor=SYSTEM, reason=PLACED_REASON)
        bus.publish(
            OrderPlaced(order_number=order.number, customer_id=customer_id, hub_code=order.hub_code)
        )
    order.payment = payment
    order._prefetched_objects_cache = {"lines": lines, "timeline": [entry]}
    return _dto(order)


_PLACE = f"""
    WITH placed AS (
        INSERT INTO {Order._meta.db_table}
               (number, customer_id, status, idempotency_key, request_fingerprint, currency,
                subtotal, delivery_fee, tip, total, address, postcode, lat, lon, hub_code,
                window_id, window_start, window_end, window_kind, placed_at, picked_at,
                updated_at)
        VALUES (%(number)s, %(customer)s, '{OrderStatus.PLACED.value}', %(key)s,
                %(fingerprint)s, %(currency)s, %(subtotal)s, %(fee)s, %(tip)s, %(total)s,
                %(address)s, %(postcode)s, %(lat)s, %(lon)s, %(hub)s, %(window)s,
                %(window_start)s, %(window_end)s, %(window_kind)s, %(now)s, NULL, %(now)s)
        ON CONFLICT DO NOTHING
        RETURNING id
    ),
    lines AS (
        INSERT INTO {OrderLine._meta.db_table}
               (order_id, position, product_id, sku, name, unit_price, quantity,
                picked_quantity, substitute_product_id, substitute_sku, substitute_name,
                substitute_unit_price, substitute_quantity, line_total)
        SELECT placed.id, v.position, v.product_id, v.sku, v.name, v.unit_price, v.quantity,
               NULL, NULL, '', '', NULL, 0, v.line_total
          FROM placed,
               unnest(%(positions)s::smallint[], %(products)s::bigint[], %(skus)s::text[],
                      %(names)s::text[], %(prices)s::numeric[], %(quantities)s::integer[],
                      %(line_totals)s::numeric[])
                   AS v (position, product_id, sku, name, unit_price, quantity, line_total)
        RETURNING id, position
    ),
    payment AS (
        INSERT INTO {Payment._meta.db_table}
               (order_id, provider, reference, card_brand, status, currency,
                authorized_amount, captured_amount, refunded_amount, created_at, updated_at)
        SELECT placed.id, %(provider)s, %(reference)s, %(brand)s,
               '{PaymentStatus.AUTHORIZED.value}', %(currency)s, %(total)s, 0, 0, %(now)s,
               %(now)s
          FROM placed
        RETURNING id
    ),
    operation AS (
        INSERT INTO {PaymentOperation._meta.db_table} (payment_id, kind, amount, at)
        SELECT payment.id, '{PaymentOperationKind.AUTHORIZE.value}', %(total)s, %(now)s
          FROM payment
    ),
    entry AS (
        INSERT INTO {OrderTimelineEntry._meta.db_table}
               (order_id, from_status, status, at, actor_user_id, actor, reason)
        SELECT placed.id, '', '{OrderStatus.PLACED.value}', %(now)s, NULL, %(actor)s,
               %(reason)s
          FROM placed
        RETURNING id
    ),
    outbox AS ({bus.outbox_insert("placed")})
    SELECT placed.id, payment.id, entry.id,
           (SELECT array_agg(id ORDER BY position) FROM lines)
      FROM placed, payment, entry
"""
_PLACE = " ".join(_PLACE.split())  # one line: psycopg caches its conversion


def _record_placed_in_one_statement(
    *,
    number,
    customer_id,
    key,
    fingerprint,
    priced,
    delivery,
    currency,
    subtotal,
    fee,
    tip,
    total,
    provider,
    auth,
) -> OrderDTO | None:
    """PostgreSQL: every row of the placed order, and OrderPlaced, in one statement (one round
    trip, atomic on its own, so no savepoint). The order INSERT does nothing on a conflict
    (same customer and key, or a number already drawn), and then neither do the others:
    returns None."""
    now = timezone.now()
    address, postcode = delivery.address.strip(), delivery.postcode.strip()
    params = {
        "number": number,
        "customer": customer_id,
        "key": key,
        "fingerprint": fingerprint,
        "currency": currency,
        "subtotal": subtotal,
        "fee": fee,
        "tip": tip,
        "total": total,
        "address": address,
        "postcode": postcode,
        "lat": delivery.lat,
        "lon": delivery.lon,
        "hub": delivery.hub_code,
        "window": delivery.window_id,
        "window_start": delivery.window_start,
        "window_end": delivery.window_end,
        "window_kind": delivery.window_kind,
        "now": now,
        "provider": provider.name,
        "reference": auth.reference,
        "brand": auth.brand,
        "actor": SYSTEM,
        "reason": PLACED_REASON,
        "positions": list(range(1, len(priced) + 1)),
        "products": [line.product_id for line in priced],
        "skus": [line.sku for line in priced],
        "names": [line.name for line in priced],
        "prices": [line.unit_price for line in priced],
        "quantities": [line.quantity for line in priced],
        "line_totals": [line.line_total for line in priced],
    }
    # OrderPlaced is written by the same statement.
    event = bus.stage(
        OrderPlaced(order_number=number, customer_id=customer_id, hub_code=delivery.hub_code)
    )
    with connection.cursor() as cursor:
        cursor.execute(_PLACE, {**params, **event.params})
        if cursor.fetchone() is None:
            return None
    bus.staged_written(event)
    # The DTO of the rows just written, as _dto() would read them back (no model instances).
    return OrderDTO(
        number=number,
        customer_id=customer_id,
        status=S.PLACED,
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
            )
            for line in priced
        ),
        subtotal=subtotal,
        delivery_fee=fee,
        tip=tip,
        total=total,
        currency=currency,
        delivery=DeliverySnapshot(
            address=address,
            postcode=postcode,
            lat=delivery.lat,
            lon=delivery.lon,
            hub_code=delivery.hub_code,
            window_id=delivery.window_id,
            window_start=delivery.window_start,
            window_end=delivery.window_end,
            window_kind=delivery.window_kind,
        ),
        placed_at=now,
        payment_status=PaymentStatus.AUTHORIZED,
        timeline=(TimelineEntryDTO(status=S.PLACED, at=now, actor=SYSTEM, reason=PLACED_REASON),),
        cancellable=S.PLACED in CANCELLABLE,
        amount_authorized=total,
        amount_captured=ZERO,
        amount_refunded=ZERO,
        card_brand=auth.brand,
    )


# --- Status changes ---------------------------------------------------------------------------


def _timeline(
    order: Order, from_status: str, status: str, *, actor: str, reason: str, actor_id=None
):
    return OrderTimelineEntry.objects.create(
        order=order,
        from_status=from_status,
        status=status,
        actor=actor[:150],
        actor_user_id=actor_id,
        reason=(reason or "")[:500],
    )


def _actor_label(actor_id: int | None, role: str) -> str:
    if actor_id is None:
        return SYSTEM
    username = get_user_model().objects.filter(pk=actor_id).values_list("username", flat=True)
    return f"{role}:{username.first() or actor_id}"


def _locked(number: str, customer_id: int | None = None) -> Order:
    orders = Order.objects.select_for_update().filter(number=number.strip().upper())
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    order = orders.first()
    if order is None:
        raise OrderNotFoundError(f"No order {number}.")
    return order


def _move(
    number: str,
    *,
    transition: str,
    target: str,
    actor: str = SYSTEM,
    actor_id: int | None = None,
    reason: str = "",
    customer_id: int | None = None,
    effects: Callable[[Order], None] | None = None,
) -> OrderDTO:
    """Run one transition under a row lock: payment effects, status, timeline, events.
    Asking for the status the order already has is a no-op (each change is idempotent)."""
    with transaction.atomic():
        order = _locked(number, customer_id)
        _step(
            order,
            transition=transition,
            target=target,
            actor=actor,
            actor_id=actor_id,
            reason=reason,
            effects=effects,
        )
    return order_get(number=order.number)


def _step(
    order: Order,
    *,
    transition: str,
    target: str,
    actor: str = SYSTEM,
    actor_id: int | None = None,
    reason: str = "",
    effects: Callable[[Order], None] | None = None,
    fields: tuple[str, ...] | None = None,
) -> None:
    """One transition of a locked order (nothing when it already has the target status).
    `fields`: the only columns this step changes (saved alone), when the caller knows them."""
    if order.status == target:
        return
    method = getattr(order, transition)
    if not can_proceed(method):
        raise IllegalTransitionError(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            f"it cannot become {OrderStatus(target).label.lower()}.",
            fields={"status": order.status, "target": target},
        )
    if effects is not None:
        effects(order)
    from_status = order.status
    method()
    order.save(update_fields=fields)
    _timeline(order, from_status, target, actor=actor, actor_id=actor_id, reason=reason)
    bus.publish(OrderStatusChanged(order_number=order.number, status=target))
    if target == S.CANCELLED:
        bus.publish(
            OrderCancelled(order_number=order.number, hub_code=order.hub_code, reason=reason)
        )


def _payment(order: Order) -> Payment:
    return Payment.objects.select_for_update().get(order=order)


def _call_provider(payment: Payment, call: str, **kwargs) -> None:
    provider = provider_get(payment.provider)
    try:
        getattr(provider, call)(reference=payment.reference, **kwargs)
    except ProviderUnavailable as exc:
        raise PaymentUnavailableError() from exc
    except ProviderRefused as exc:
        raise IllegalTransitionError(
            f"The payment processor refused to {call}: {exc}", code="payment_refused"
        ) from exc


def _record(payment: Payment, kind: str, amount: Decimal) -> None:
    PaymentOperation.objects.create(payment=payment, kind=kind, amount=amount)


def _capture(order: Order) -> None:
    payment = _payment(order)
    amount = order.total
    _call_provider(payment, "capture", amount_minor=Money(amount, payment.currency).to_minor())
    payment.captured_amount = amount
    payment.status = PaymentStatus.CAPTURED
    payment.save(update_fields=["captured_amount", "status", "updated_at"])
    _record(payment, PaymentOperationKind.CAPTURE, amount)


def _void(order: Order) -> None:
    payment = _payment(order)
    if payment.status == PaymentStatus.VOIDED:
        return
    _call_provider(payment, "void")
    payment.status = PaymentStatus.VOIDED
    payment.save(update_fields=["status", "updated_at"])
    _record(payment, PaymentOperationKind.VOID, payment.authorized_amount)


def _refund_all(order: Order) -> None:
    payment = _payment(order)
    amount = payment.captured_amount - payment.refunded_amount
    if amount > 0:
        _call_provider(payment, "refund", amount_minor=Money(amount, payment.currency).to_minor())
    payment.refunded_amount = payment.captured_amount
    payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["refunded_amount", "status", "updated_at"])
    _record(payment, PaymentOperationKind.REFUND, amount)


def order_mark_picking(*, number: str, reason: str = "") -> OrderDTO:
    return _move(number, transition="start_picking", target=S.PICKING, reason=reason)


def order_mark_packed(*, number: str, reason: str = "") -> OrderDTO:
    return _move(number, transition="pack", target=S.PACKED, reason=reason)


def order_mark_out_for_delivery(*, number: str, reason: str = "") -> OrderDTO:
    return _move(number, transition="send_out", target=S.OUT_FOR_DELIVERY, reason=reason)


def order_mark_delivered(*, number: str, reason: str = "") -> OrderDTO:
    """Captures the order total (the picked amount, after any short-pick adjustment)."""
    return _move(number, transition="deliver", target=S.DELIVERED, reason=reason, effects=_capture)


def order_mark_delivery_failed(*, number: str, reason: str) -> OrderDTO:
    """Voids the payment: nothing was handed over, nothing is charged."""
    return _move(
        number, transition="fail_delivery", target=S.DELIVERY_FAILED, reason=reason, effects=_void
    )


def order_cancel(
    *, number: str, reason: str, actor_id: int | None = None, customer_id: int | None = None
) -> OrderDTO:
    """Cancel before the order leaves the hub; voids the payment; publishes OrderCancelled
    (delivery releases the window and the stock). With customer_id, only that customer's
    order is found."""
    actor_id = customer_id if actor_id is None else actor_id
    role = "customer" if customer_id is not None else "operator"
    return _move(
        number,
        transition="cancel",
        target=S.CANCELLED,
        actor=_actor_label(actor_id, role),
        actor_id=actor_id,
        reason=reason or "Cancelled.",
        customer_id=customer_id,
        effects=_void,
    )


def order_refund(*, number: str, reason: str, actor_id: int | None = None) -> OrderDTO:
    """Refund a delivered order in full (an operator's decision)."""
    return _move(
        number,
        transition="refund",
        target=S.REFUNDED,
        actor=_actor_label(actor_id, "operator"),
        actor_id=actor_id,
        reason=reason,
        effects=_refund_all,
    )


# --- Picking adjustments ----------------------------------------------------------------------


def _same_pick(line: OrderLine, pick: PickedLineInput) -> bool:
    sub_qty = pick.substitute_quantity if pick.substitute_sku else 0
    return (
        line.picked_quantity == pick.picked_quantity
        and (line.substitute_sku or "") == ((pick.substitute_sku or "") if sub_qty else "")
        and line.substitute_quantity == sub_qty
    )


def order_adjust_after_pick(*, number: str, picked: Sequence[PickedLineInput]) -> OrderDTO:
    """Record what the picker found for every line (picked, substituted, missing), recompute
    the totals and release the difference on the card (a partial reversal of the hold).

    Substitutes are charged at their catalog price, but never above the ordered item's unit
    price. Every order line must be reported. Sending the same picks again is a no-op; other
    picks after the first are refused (an authorization can shrink, never grow back).
    """
    with transaction.atomic():
        order = _locked(number)
        _adjust(order, picked)
    return order_get(number=order.number)


def order_record_packed(*, number: str, picked: Sequence[PickedLineInput]) -> OrderDTO:
    """The hub packed the order: start picking if nobody said so yet, record the picks (as
    `order_adjust_after_pick`) and mark it packed, under one row lock. Idempotent: the same
    picks again change nothing. The DTO is built from the rows this call holds (only the
    timeline, and the payment when the picks were already recorded, are read)."""
    status_only = ("status", "updated_at")  # the transitions change nothing else
    with transaction.atomic():
        order = _locked(number)
        if order.status == S.PLACED:  # PickStarted not handled yet
            _step(order, transition="start_picking", target=S.PICKING, fields=status_only)
        lines, payment = _adjust(order, picked, save_order=False)
        # One UPDATE of the order for the picks and the status together.
        _step(order, transition="pack", target=S.PACKED, fields=status_only + _PICK_TOTALS)
        if payment is None:
            payment = Payment.objects.get(order=order)
        timeline = list(order.timeline.order_by("at", "id"))
    return _dto(
        order,
        lines=sorted(lines, key=lambda line: line.position),
        timeline=timeline,
        payment=payment,
    )


_PICK_TOTALS = ("subtotal", "total", "picked_at", "updated_at")
_PICK_FIELDS = (
    "picked_quantity",
    "substitute_quantity",
    "substitute_product_id",
    "substitute_sku",
    "substitute_name",
    "substitute_unit_price",
    "line_total",
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
    substitutes = _substitutes(picks)
    for sku, pick in picks.items():
        line = lines[sku]
        sub = substitutes.get(pick.substitute_sku or "") if pick.substitute_quantity else None
        line.picked_quantity = pick.picked_quantity
        line.substitute_quantity = pick.substitute_quantity if sub else 0
        line.substitute_product_id = sub.id if sub else None
        line.substitute_sku = sub.sku if sub else ""
        line.substitute_name = sub.name if sub else ""
        line.substitute_unit_price = (
            pricing.substitute_price(ordered=line.unit_price, catalog=sub.price) if sub else None
        )
        line.line_total = pricing.picked_line_total(
            unit_price=line.unit_price,
            picked_quantity=line.picked_quantity,
            substitute_unit_price=line.substitute_unit_price,
            substitute_quantity=line.substitute_quantity,
        )
    _save_picks(list(lines.values()))
    order.subtotal = pricing.subtotal(lines.values())
    order.total = pricing.total(
        subtotal=order.subtotal, delivery_fee=order.delivery_fee, tip=order.tip
    )
    order.picked_at = timezone.now()
    if save_order:
        order.save(update_fields=_PICK_TOTALS)

    payment = _payment(order)
    released = payment.authorized_amount - order.total
    if released > 0:
        _call_provider(payment, "reduce", amount_minor=Money(released, payment.currency).to_minor())
        payment.authorized_amount = order.total
        payment.save(update_fields=["authorized_amount", "updated_at"])
        _record(payment, PaymentOperationKind.REDUCE, released)
    missing = sum(line.missing_quantity for line in lines.values())
    substituted = sum(line.substitute_quantity for line in lines.values())
    _timeline(
        order,
        order.status,
        order.status,
        actor=SYSTEM,
        reason=(
            f"Picked: {missing} missing, {substituted} substituted; "
            f"{to_decimal(released)} {order.currency} released."
        ),
    )
    return list(lines.values()), payment


_SAVE_PICKS = f"""
    UPDATE {OrderLine._meta.db_table} AS line
       SET picked_quantity = v.picked_quantity,
           substitute_quantity = v.substitute_quantity,
           substitute_product_id = v.substitute_product_id,
           substitute_sku = v.substitute_sku,
           substitute_name = v.substitute_name,
           substitute_unit_price = v.substitute_unit_price,
           line_total = v.line_total
      FROM unnest(%s::bigint[], %s::integer[], %s::integer[], %s::bigint[], %s::text[],
                  %s::text[], %s::numeric[], %s::numeric[])
           AS v(id, picked_quantity, substitute_quantity, substitute_product_id,
                substitute_sku, substitute_name, substitute_unit_price, line_total)
     WHERE line.id = v.id
"""
_SAVE_PICKS = " ".join(_SAVE_PICKS.split())  # one line: psycopg caches its conversion


def _save_picks(lines: list[OrderLine]) -> None:
    """Save the picked fields of the lines. On PostgreSQL one UPDATE from arrays: Django's
    bulk_update builds a CASE per field and line: about a sixth of the OrderPacked handler's
    CPU, for one statement."""
    if connection.vendor != "postgresql":
        OrderLine.objects.bulk_update(lines, _PICK_FIELDS)
        return
    columns = [[getattr(line, field) for line in lines] for field in ("pk", *_PICK_FIELDS)]
    with connection.cursor() as cursor:
        cursor.execute(_SAVE_PICKS, columns)


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
            line = lines[pick.sku]
            sub_qty = pick.substitute_quantity if pick.substitute_sku else 0
            if pick.picked_quantity < 0 or pick.substitute_quantity < 0:
                errors[pick.sku] = "Quantities cannot be negative."
            elif pick.substitute_quantity and not pick.substitute_sku:
                errors[pick.sku] = "A substitute quantity needs a substitute SKU."
            elif pick.picked_quantity + sub_qty > line.quantity:
                errors[pick.sku] = f"More than the {line.quantity} ordered."
            elif pick.substitute_sku == pick.sku and sub_qty:
                errors[pick.sku] = "A product cannot substitute itself."
            picks[pick.sku] = pick
    for sku in lines.keys() - picks.keys():
        errors[sku] = "Not reported."
    if errors:
        raise PickAdjustmentError(fields=errors)
    return picks


def _substitutes(picks: dict[str, PickedLineInput]) -> dict:
    skus = {p.substitute_sku for p in picks.values() if p.substitute_sku and p.substitute_quantity}
    if not skus:
        return {}
    found = catalog.products_by_skus(skus=skus)
    unknown = sorted(skus - found.keys())
    if unknown:
        raise PickAdjustmentError(
            "A substitute is not a known product.",
            fields=dict.fromkeys(unknown, "Unknown substitute."),
        )
    return found


# --- Recommendations --------------------------------------------------------------------------

ALSO_BOUGHT_CACHE_SECONDS = 600
ALSO_BOUGHT_HISTORY = 5000  # the most recent orders with the SKU are enough to rank


def customers_also_bought(*, sku: str, limit: int = 6) -> tuple[str, ...]:
    """SKUs most often in the same orders as `sku` (cancelled orders left out), best first."""
    limit = max(1, min(limit, 50))
    key = f"ordering:also-bought:{hashlib.sha1(sku.encode()).hexdigest()}:{limit}"
    cached = cache.get(key)
    if cached is not None:
        return tuple(cached)
    recent = (
        OrderLine.objects.filter(sku=sku)
        .exclude(order__status=S.CANCELLED)
        .order_by("-order_id")
        .values("order_id")[:ALSO_BOUGHT_HISTORY]
    )
    ranked = (
        OrderLine.objects.filter(order_id__in=recent)
        .exclude(sku=sku)
        .values("sku")
        .annotate(orders=Count("order_id", distinct=True))
        .order_by("-orders", "sku")[:limit]
    )
    result = tuple(row["sku"] for row in ranked)
    cache.set(key, list(result), ALSO_BOUGHT_CACHE_SECONDS)
    return result
