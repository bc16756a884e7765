"""Reading orders: an order as its door shows it (OrderDTO), a customer's orders, and what
customers also bought. The writes are in placement, transitions and picking."""

import hashlib
from collections.abc import Sequence
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Prefetch, QuerySet

from ..models import Order, OrderLine, OrderTimelineEntry, Payment
from ..statuses import (
    CANCELLABLE,
    OrderStatus,
    PaymentStatus,
    SubstituteDecision,
    SubstitutionChoice,
)
from .dtos import (
    DeliverySnapshot,
    OrderDTO,
    OrderLineDTO,
    OrderNotFoundError,
    TimelineEntryDTO,
)


def orders_with_details() -> QuerySet[Order]:
    """Orders with what their DTO shows: payment, lines by position, timeline by time."""
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
        substitution=SubstitutionChoice(line.substitution),
        allowed_substitute_sku=line.allowed_substitute_sku,
        substitute_decision=(
            SubstituteDecision(line.substitute_decision) if line.substitute_decision else None
        ),
    )


def _delivery(order: Order) -> DeliverySnapshot:
    return DeliverySnapshot(
        address=order.address,
        postcode=order.postcode,
        lat=order.lat,
        lon=order.lon,
        hub_code=order.hub_code,
        window_id=order.window_id,
        window_start=order.window_start,
        window_end=order.window_end,
        window_kind=order.window_kind,
    )


def order_dto(
    order: Order,
    *,
    lines: Sequence[OrderLine] | None = None,
    timeline: Sequence[OrderTimelineEntry] | None = None,
    payment: Payment | None = None,
) -> OrderDTO:
    """The order as its door shows it. A caller already holding the rows just written passes
    them (lines by position, timeline by time) instead of having them read back."""
    payment = payment if payment is not None else order.payment
    lines = lines if lines is not None else list(order.lines.all())
    timeline = timeline if timeline is not None else list(order.timeline.all())
    status = OrderStatus(order.status)
    return OrderDTO(
        number=order.number,
        customer_id=order.customer_id,
        status=status,
        lines=tuple(_line_dto(line) for line in lines),
        subtotal=order.subtotal,
        delivery_fee=order.delivery_fee,
        tip=order.tip,
        total=order.total,
        currency=order.currency,
        delivery=_delivery(order),
        placed_at=order.placed_at,
        payment_status=PaymentStatus(payment.status),
        timeline=tuple(
            TimelineEntryDTO(status=OrderStatus(t.status), at=t.at, actor=t.actor, reason=t.reason)
            for t in timeline
        ),
        cancellable=status in CANCELLABLE,
        amount_authorized=payment.authorized_amount,
        amount_captured=payment.captured_amount,
        amount_refunded=payment.refunded_amount,
        card_brand=payment.card_brand,
        payment_reference=payment.reference,
        partner_key=order.partner_key,
    )


def _mine(orders: QuerySet[Order], number: str, customer_id: int | None) -> Order:
    orders = orders.filter(number=number.strip().upper())
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    order = orders.first()
    if order is None:
        # The same answer whether it does not exist or is someone else's: nothing leaks.
        raise OrderNotFoundError(f"No order {number}.")
    return order


def order_locked(number: str, customer_id: int | None = None) -> Order:
    """The order, row-locked (inside a transaction); OrderNotFoundError if not (theirs)."""
    return _mine(Order.objects.select_for_update(), number, customer_id)


def order_get(*, number: str, customer_id: int | None = None) -> OrderDTO:
    """The order with this number (any case); with customer_id, only if it is theirs."""
    return order_dto(_mine(orders_with_details(), number, customer_id))


def orders_for_customer(
    *, customer_id: int, limit: int = 20, before: str | None = None
) -> tuple[OrderDTO, ...]:
    """The customer's orders, newest first. `before`: an order number (the last one of the
    previous page) to continue from."""
    limit = max(1, min(limit, 100))
    orders = orders_with_details().filter(customer_id=customer_id).order_by("-placed_at", "-id")
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
    return tuple(order_dto(order) for order in orders[:limit])


ALSO_BOUGHT_CACHE_SECONDS = 600
ALSO_BOUGHT_HISTORY = 5000  # the most recent orders with the SKU are enough to rank


def customers_also_bought(*, sku: str, limit: int = 6) -> tuple[str, ...]:
    """SKUs most often in the same orders as `sku` (cancelled orders left out), best first."""
    limit = max(1, min(limit, 50))
    key = f"ordering:also-bought:{hashlib.sha1(sku.encode()).hexdigest()}:{limit}"
    cached: list[str] | None = cache.get(key)
    if cached is not None:
        return tuple(cached)
    recent = (
        OrderLine.objects.filter(sku=sku)
        .exclude(order__status=OrderStatus.CANCELLED)
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


def orders_past_window(
    *, ended_before: datetime, statuses: Sequence[OrderStatus], limit: int = 500
) -> list[str]:
    """The numbers of orders in these statuses whose delivery window ended before this time,
    oldest window first: orders stuck short of their promise."""
    return list(
        Order.objects.filter(status__in=list(statuses), window_end__lt=ended_before)
        .order_by("window_end")
        .values_list("number", flat=True)[:limit]
    )
