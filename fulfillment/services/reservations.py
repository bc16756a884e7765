"""Reservations: a checkout's hold on stock, all lines or none, for a limited time.

Lock order everywhere: pick job → reservation → stock rows (in stock-id order). A hold is
released by ending its reservation (a conditional UPDATE on the reservation row, which takes
its lock) and giving back what its lines still hold.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import (
    Hub,
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    Stock,
)
from .dto import (
    HubInactiveError,
    InsufficientStockError,
    ReservationDTO,
    ReservationExpiredError,
    ReservationNotFoundError,
    Shortage,
    StockLine,
    StockValidationError,
)
from .hubs import hub_row
from .ledger import Move, MoveRefused, apply_moves, locked_stock, write_moves

MAX_HOLD = timedelta(days=7)
MAX_LINES = 200
LIVE = (ReservationStatus.HELD, ReservationStatus.CONFIRMED)


# --- reserve -----------------------------------------------------------------------------------


def stock_reserve(
    *, hub_code: str, lines: Sequence[StockLine], hold_for: timedelta, reference: str
) -> ReservationDTO:
    """Hold every line for `hold_for`, or none: raises InsufficientStockError with the
    shortages. The basket's stock rows are locked in stock-id order (no deadlock between
    overlapping baskets) and judged on their locked values; a handful of statements per
    basket, none per line."""
    wanted = _merge_lines(lines)
    reference = _checked_hold(hold_for, reference)
    with transaction.atomic():
        rows = _locked_basket(hub_code, wanted)
        shortages = _shortages(rows, wanted)
        if shortages:
            raise InsufficientStockError(shortages=shortages)
        reservation = _hold(rows, wanted, hold_for, reference)
    return ReservationDTO(
        id=str(reservation.id),
        hub_code=hub_code,
        reference=reference,
        status=ReservationStatus.HELD,
        expires_at=reservation.expires_at,
        lines=tuple(StockLine(product_id=pid, quantity=qty) for pid, qty in sorted(wanted.items())),
    )


def _merge_lines(lines: Sequence[StockLine]) -> dict[int, int]:
    if not lines:
        raise StockValidationError("A reservation needs at least one line.", fields={"lines": []})
    if len(lines) > MAX_LINES:
        raise StockValidationError(f"At most {MAX_LINES} lines.", fields={"lines": len(lines)})
    wanted: dict[int, int] = defaultdict(int)
    for index, line in enumerate(lines):
        if not _whole(line.quantity) or line.quantity < 1:
            raise StockValidationError(
                "Each quantity must be a whole number of at least 1.",
                fields={f"lines[{index}].quantity": line.quantity},
            )
        wanted[int(line.product_id)] += line.quantity
    return dict(wanted)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_hold(hold_for: timedelta, reference: str) -> str:
    """The reference, stripped, once the hold's length and the reference are acceptable."""
    if not timedelta(0) < hold_for <= MAX_HOLD:
        raise StockValidationError(
            "A hold lasts more than zero seconds and at most a week.",
            fields={"hold_for": str(hold_for)},
        )
    reference = (reference or "").strip()
    if not reference or len(reference) > 64:
        raise StockValidationError(
            "A reservation needs a reference (at most 64 characters).",
            fields={"reference": reference},
        )
    return reference


def _locked_basket(hub_code: str, wanted: dict[int, int]) -> list[Stock]:
    """The basket's stock rows at an active hub, locked; the hub alone is read only when no
    row matched (to tell an unknown or closed hub from products it does not stock)."""
    rows = locked_stock(Stock.objects.filter(hub__code=hub_code, product_id__in=list(wanted)))
    hub = rows[0].hub if rows else hub_row(hub_code, for_orders=True)
    if not hub.active:
        raise HubInactiveError(fields={"hub_code": hub_code})
    return rows


def _shortages(rows: Sequence[Stock], wanted: dict[int, int]) -> tuple[Shortage, ...]:
    available = dict.fromkeys(wanted, 0) | {row.product_id: row.available for row in rows}
    return tuple(
        Shortage(product_id=pid, requested=qty, available=available[pid])
        for pid, qty in sorted(wanted.items())
        if available[pid] < qty
    )


def _hold(
    rows: Sequence[Stock], wanted: dict[int, int], hold_for: timedelta, reference: str
) -> Reservation:
    """Reserve the locked rows' units: stock and ledger, then the reservation and its lines."""
    reservation_id = uuid.uuid4()
    write_moves(
        rows,
        [
            Move(
                row.pk,
                row.product_id,
                MovementKind.RESERVED,
                reserved_delta=wanted[row.product_id],
                reference=str(reservation_id),
            )
            for row in rows
        ],
    )
    now = timezone.now()
    reservation = Reservation.objects.create(
        id=reservation_id,
        hub_id=rows[0].hub_id,
        reference=reference,
        status=ReservationStatus.HELD,
        created_at=now,
        expires_at=now + hold_for,
    )
    ReservationLine.objects.bulk_create(
        ReservationLine(
            reservation=reservation,
            stock_id=row.pk,
            product_id=row.product_id,
            quantity=wanted[row.product_id],
        )
        for row in rows
    )
    return reservation


# --- release, expire, confirm ------------------------------------------------------------------


def stock_reservation_release(*, reservation_id: str, reason: str = "") -> None:
    """Give the held units back. Idempotent: an ended reservation is left as it is."""
    pk = parse_reservation_id(reservation_id)
    reason = (reason or "released")[:300]
    with transaction.atomic():
        # Ending it takes the reservation's row lock, as lock_reservation would.
        ended = Reservation.objects.filter(pk=pk, status__in=LIVE).update(
            status=ReservationStatus.RELEASED, ended_at=timezone.now(), end_reason=reason
        )
        if not ended:
            if not Reservation.objects.filter(pk=pk).exists():
                raise ReservationNotFoundError(fields={"reservation_id": str(reservation_id)})
            return
        _give_back_holds([pk], reason)


def reservations_end(
    reservations: Sequence[Reservation], *, status: ReservationStatus, reason: str
) -> None:
    """End the (row-locked, live) reservations and release what their lines still hold."""
    if not reservations:
        return
    now, reason = timezone.now(), reason[:300]
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
        status=status, ended_at=now, end_reason=reason
    )
    for reservation in reservations:
        reservation.status, reservation.ended_at, reservation.end_reason = status, now, reason
    _give_back_holds([r.pk for r in reservations], reason)


def _give_back_holds(reservation_ids: list[uuid.UUID], reason: str) -> None:
    """Release what the lines of these (locked, ending) reservations still hold."""
    still_held = F("quantity") - F("committed") - F("released")
    lines = (
        ReservationLine.objects.filter(reservation_id__in=reservation_ids)
        .annotate(held_now=still_held)
        .filter(held_now__gt=0)
    )
    moves = [
        Move(
            stock_id,
            product_id,
            MovementKind.RELEASED,
            reserved_delta=-held,
            reason=reason,
            reference=str(reservation_id),
        )
        for reservation_id, stock_id, product_id, held in lines.values_list(
            "reservation_id", "stock_id", "product_id", "held_now"
        )
    ]
    try:
        apply_moves(moves)
    except MoveRefused as refused:  # reserved fell below a live hold: the ledger is broken
        raise RuntimeError(
            f"stock row for product {refused.product_id} holds less than its reservations"
        ) from refused
    lines.update(released=F("quantity") - F("committed"))


def reservations_expire(*, now: datetime | None = None, batch: int = 500) -> int:
    """Release holds past their time. Rows are claimed with SKIP LOCKED, so any number of
    sweepers can run at once and a hold being confirmed or picked is left alone."""
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                Reservation.objects.select_for_update(skip_locked=True)
                .filter(status=ReservationStatus.HELD, expires_at__lte=now or timezone.now())
                .order_by("expires_at")[:batch]
            )
            reservations_end(due, status=ReservationStatus.EXPIRED, reason="hold expired")
        total += len(due)
        if len(due) < batch:
            return total


def stock_reservation_confirm(*, reservation_id: str) -> None:
    """The order was placed: the hold no longer expires. Idempotent.
    Raises ReservationExpiredError when the hold already lapsed (its units are released)."""
    pk = parse_reservation_id(reservation_id)
    if Reservation.objects.filter(
        pk=pk, status=ReservationStatus.HELD, expires_at__gt=timezone.now()
    ).update(status=ReservationStatus.CONFIRMED, expires_at=None):
        return
    with transaction.atomic():  # not a live hold: confirmed already, or it lapsed
        reservation = lock_reservation(pk)
        if reservation.status in (ReservationStatus.CONFIRMED, ReservationStatus.COMMITTED):
            return
        if reservation.status == ReservationStatus.HELD:
            reservations_end([reservation], status=ReservationStatus.EXPIRED, reason="hold expired")
    # Raised after the commit: the lapsed hold stays released.
    raise ReservationExpiredError(
        fields={"reservation_id": str(reservation_id), "status": reservation.status}
    )


# --- reading -----------------------------------------------------------------------------------


def parse_reservation_id(reservation_id: str | uuid.UUID) -> uuid.UUID:
    try:
        return uuid.UUID(str(reservation_id))
    except ValueError:
        raise ReservationNotFoundError(fields={"reservation_id": str(reservation_id)}) from None


def lock_reservation(reservation_id: str | uuid.UUID) -> Reservation:
    # Lock the reservation row only (`of`): locking the joined hub row too would deadlock
    # with a concurrent reserve, whose inserts take a key-share lock on that hub.
    reservation = (
        Reservation.objects.select_for_update(of=("self",))
        .select_related("hub")
        .filter(pk=parse_reservation_id(reservation_id))
        .first()
    )
    if reservation is None:
        raise ReservationNotFoundError(fields={"reservation_id": str(reservation_id)})
    return reservation


def stock_reservation_get(*, reservation_id: str) -> ReservationDTO:
    reservation = (
        Reservation.objects.select_related("hub")
        .prefetch_related("lines")
        .filter(pk=parse_reservation_id(reservation_id))
        .first()
    )
    if reservation is None:
        raise ReservationNotFoundError(fields={"reservation_id": str(reservation_id)})
    return _reservation_dto(reservation, reservation.hub)


def _reservation_dto(reservation: Reservation, hub: Hub) -> ReservationDTO:
    return ReservationDTO(
        id=str(reservation.id),
        hub_code=hub.code,
        reference=reservation.reference,
        status=ReservationStatus(reservation.status),
        expires_at=reservation.expires_at,
        lines=tuple(
            StockLine(product_id=line.product_id, quantity=line.quantity)
            for line in reservation.lines.all()
        ),
    )
