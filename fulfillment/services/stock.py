"""Operators' and batches' changes of on-hand (goods in, corrections, write-offs, counts),
and the proof that every stock row agrees with its ledger and its live holds."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from prime_now.kernel import bus

from ..events import StockChanged
from ..models import Hub, MovementKind, ReservationLine, Stock, StockMovement
from .availability import level_dto
from .dto import (
    InsufficientStockError,
    Shortage,
    StockLevelDTO,
    StockMismatch,
    StockValidationError,
)
from .hubs import hub_row
from .ledger import OPERATOR_KINDS, Move, MoveRefused, forget_cached, locked_stock, write_moves

MAX_ON_HAND = 2_147_483_647  # the on_hand column's limit (a PostgreSQL integer)


@dataclass(frozen=True)
class NewStock:
    """A product arriving at a hub for the first time (stock_receive_new)."""

    product_id: int
    sku: str
    name: str
    on_hand: int
    aisle: str = ""
    bin: str = ""


def stock_row(
    hub: Hub, *, product_id: int, sku: str, name: str = "", aisle: str = "", bin: str = ""
) -> Stock:
    """The stock row for a product at a hub, created empty (0/0) the first time; its
    location and name are brought up to date."""
    row, created = Stock.objects.get_or_create(
        hub=hub,
        product_id=product_id,
        defaults={"sku": sku, "name": name[:300], "aisle": aisle, "bin": bin},
    )
    changed = {
        field: value
        for field, value in (("aisle", aisle), ("bin", bin), ("name", name[:300]))
        if value and getattr(row, field) != value
    }
    if changed and not created:
        Stock.objects.filter(pk=row.pk).update(**changed)
        for field, value in changed.items():
            setattr(row, field, value)
    return row


def stock_adjust(
    *,
    hub_code: str,
    product_id: int,
    delta: int,
    kind: MovementKind = MovementKind.ADJUSTED,
    reason: str,
    actor_id: int | None = None,
    reference: str = "",
) -> StockLevelDTO:
    """Add or remove units on hand (received, adjusted, damaged, returned), with why.
    Never takes units that are reserved: raises InsufficientStockError instead."""
    _check_adjustment(kind, delta, reason)
    hub = hub_row(hub_code)
    with transaction.atomic():
        rows = locked_stock(Stock.objects.filter(hub=hub, product_id=product_id))
        if not rows:
            raise StockValidationError(
                "This product is not stocked at this hub; receive it first.",
                fields={"product_id": product_id},
            )
        move = Move(
            rows[0].pk,
            product_id,
            kind,
            on_hand_delta=delta,
            reason=reason,
            reference=reference,
            actor_id=actor_id,
        )
        try:
            write_moves(rows, [move])
        except MoveRefused as refused:
            row = refused.row
            raise InsufficientStockError(
                f"Only {row.available} of {row.sku} are not reserved.",
                shortages=(Shortage(product_id, -delta, row.available),),
            ) from None
    return level_dto(hub, rows[0])


def _check_adjustment(kind: MovementKind, delta: int, reason: str) -> None:
    if kind not in OPERATOR_KINDS:
        raise StockValidationError("Not an adjustment kind.", fields={"kind": kind})
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        raise StockValidationError(
            "Give a non-zero whole number of units.", fields={"delta": delta}
        )
    if kind in {MovementKind.RECEIVED, MovementKind.RETURNED} and delta < 0:
        raise StockValidationError(f"{kind} adds units.", fields={"delta": delta})
    if kind == MovementKind.DAMAGED and delta > 0:
        raise StockValidationError("damaged removes units.", fields={"delta": delta})
    if not (reason or "").strip():
        raise StockValidationError("Say why stock changes.", fields={"reason": "required"})


def stock_receive(
    *,
    hub_code: str,
    product_id: int,
    sku: str,
    quantity: int,
    name: str = "",
    aisle: str = "",
    bin: str = "",
    reason: str = "goods received",
    actor_id: int | None = None,
    reference: str = "",
) -> StockLevelDTO:
    """Goods in: creates the stock row the first time a product arrives at the hub."""
    if not isinstance(quantity, int) or quantity < 1:
        raise StockValidationError("Receive at least one unit.", fields={"quantity": quantity})
    hub = hub_row(hub_code)
    with transaction.atomic():
        stock_row(hub, product_id=product_id, sku=sku, name=name, aisle=aisle, bin=bin)
        return stock_adjust(
            hub_code=hub_code,
            product_id=product_id,
            delta=quantity,
            kind=MovementKind.RECEIVED,
            reason=reason,
            actor_id=actor_id,
            reference=reference,
        )


def stock_count(
    *,
    hub_code: str,
    product_id: int,
    sku: str,
    counted: int,
    name: str = "",
    aisle: str = "",
    bin: str = "",
    reason: str = "cycle count",
    actor_id: int | None = None,
    reference: str = "",
) -> int:
    """A cycle count: set on-hand to what was counted through one ledger adjustment.
    Returns the adjustment (0 when the count matched). Refuses a count below what is
    reserved for open orders."""
    if not isinstance(counted, int) or not 0 <= counted <= MAX_ON_HAND:
        raise StockValidationError(
            f"A count is a whole number from 0 to {MAX_ON_HAND}.", fields={"on_hand": counted}
        )
    hub = hub_row(hub_code)
    with transaction.atomic():
        row = stock_row(hub, product_id=product_id, sku=sku, name=name, aisle=aisle, bin=bin)
        (row,) = locked_stock(Stock.objects.filter(pk=row.pk))
        if counted < row.reserved:
            raise InsufficientStockError(
                f"Counted {counted} of {sku} but {row.reserved} are reserved for open orders.",
                shortages=(Shortage(product_id, row.reserved, counted),),
            )
        delta = counted - row.on_hand
        move = Move(
            row.pk,
            product_id,
            MovementKind.ADJUSTED,
            on_hand_delta=delta,
            reason=reason,
            reference=reference,
            actor_id=actor_id,
        )
        write_moves([row], [move])
    return delta


def stock_receive_new(
    *, hub_code: str, items: Sequence[NewStock], reason: str, reference: str = ""
) -> int:
    """Bulk goods-in for products not yet stocked at the hub (seeding, onboarding a hub):
    rows and their opening "received" movements in one transaction. Products already
    stocked are skipped (idempotent). Returns how many rows were created."""
    hub = hub_row(hub_code)
    with transaction.atomic():
        known = set(
            Stock.objects.filter(hub=hub, product_id__in=[i.product_id for i in items]).values_list(
                "product_id", flat=True
            )
        )
        fresh = [i for i in items if i.product_id not in known and i.on_hand >= 0]
        if not fresh:
            return 0
        now = timezone.now()
        rows = Stock.objects.bulk_create(
            [
                Stock(
                    hub=hub,
                    product_id=i.product_id,
                    sku=i.sku,
                    name=i.name[:300],
                    aisle=i.aisle,
                    bin=i.bin,
                    on_hand=i.on_hand,
                    reserved=0,
                    updated_at=now,
                )
                for i in fresh
            ],
            batch_size=2000,
        )
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    stock=row,
                    kind=MovementKind.RECEIVED,
                    on_hand_delta=row.on_hand,
                    reason=reason,
                    reference=reference,
                    created_at=now,
                )
                for row in rows
                if row.on_hand
            ],
            batch_size=2000,
        )
        product_ids = tuple(sorted(row.product_id for row in rows))
        bus.publish(StockChanged(hub_code=hub.code, product_ids=product_ids))
        transaction.on_commit(partial(forget_cached, hub.code, product_ids))
    return len(fresh)


def stock_verify(*, hub_code: str | None = None) -> tuple[StockMismatch, ...]:
    """Rows whose on-hand/reserved differ from their ledger, or whose reserved differs
    from the units their reservations still hold. Empty means all is well."""
    rows = Stock.objects.select_related("hub")
    if hub_code:
        rows = rows.filter(hub=hub_row(hub_code))
    rows = rows.annotate(
        ledger_on_hand=Coalesce(Sum("movements__on_hand_delta"), 0),
        ledger_reserved=Coalesce(Sum("movements__reserved_delta"), 0),
    )
    held: dict[int, int] = defaultdict(int)
    lines = ReservationLine.objects.filter(stock__in=rows.values("pk")).values_list(
        "stock_id", "quantity", "committed", "released"
    )
    for stock_id, quantity, committed, released in lines.iterator(chunk_size=5000):
        held[stock_id] += quantity - committed - released
    return tuple(
        StockMismatch(
            hub_code=row.hub.code,
            sku=row.sku,
            on_hand=row.on_hand,
            ledger_on_hand=row.ledger_on_hand,
            reserved=row.reserved,
            ledger_reserved=row.ledger_reserved,
            held=held[row.pk],
        )
        for row in rows.order_by("hub__code", "sku").iterator(chunk_size=2000)
        if (row.on_hand, row.reserved) != (row.ledger_on_hand, row.ledger_reserved)
        or row.reserved != held[row.pk]
    )
