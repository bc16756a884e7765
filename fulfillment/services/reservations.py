"""Reservations: a checkout's hold on stock, all lines or none, for a limited time.

Lock order everywhere: pick job → reservation → stock rows (in stock-id order). A hold is
released by ending its reservation (a conditional UPDATE on the reservation row, which takes
its lock) and giving back what its lines still hold.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ..metrics import reservations_ended, reservations_made
from ..models import (
    Hub,
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    Stock,
    StockMovement,
)
from .dto import (
    InsufficientStockError,
    ReservationDTO,
    ReservationExpiredError,
    ReservationNotFoundError,
    Shortage,
    StockLine,
    StockValidationError,
)
from .hubs import hub_row
from .ledger import RowChange, announce

MAX_HOLD = timedelta(days=7)
MAX_LINES = 200


# --- reserve -----------------------------------------------------------------------------------


def stock_reserve(
    *, hub_code: str, lines: Sequence[StockLine], hold_for: timedelta, reference: str
) -> ReservationDTO:
    """Hold every line for `hold_for`, or none: raises InsufficientStockError with the
    shortages. One statement (see _RESERVE)."""
    wanted = _merge_lines(lines)
    now = timezone.now()
    reservation = ReservationDTO(
        id=str(uuid.uuid4()),
        hub_code=hub_code,
        reference=_checked_hold(hold_for, reference),
        status=ReservationStatus.HELD,
        expires_at=now + hold_for,
        lines=tuple(StockLine(product_id=pid, quantity=qty) for pid, qty in sorted(wanted.items())),
    )
    free, reserved = _reserve_in_one_statement(reservation, now)
    if not free:
        hub_row(hub_code, for_orders=True)  # raises when the hub is unknown or inactive
    if not reserved:
        reservations_made.labels(outcome="refused").inc()
        raise InsufficientStockError(shortages=_shortages(free, wanted))
    reservations_made.labels(outcome="held").inc()
    announce([RowChange(hub_code, pid, free[pid], free[pid] - qty) for pid, qty in wanted.items()])
    return reservation


def _reserve_in_one_statement(
    reservation: ReservationDTO, now: datetime
) -> tuple[dict[int, int], bool]:
    """Run _RESERVE: the units free on each locked row before, and whether it reserved."""
    params: dict[str, Any] = {
        "hub": reservation.hub_code,
        "lines": len(reservation.lines),
        "id": reservation.id,
        "reference": reservation.reference,
        "products": [line.product_id for line in reservation.lines],
        "quantities": [line.quantity for line in reservation.lines],
        "now": now,
        "expires": reservation.expires_at,
    }
    # Alone, the statement is its own transaction (the rows stay locked only while it runs);
    # inside the caller's transaction, a savepoint keeps a failed statement from breaking it.
    with (
        transaction.atomic() if connection.in_atomic_block else nullcontext(),
        connection.cursor() as cursor,
    ):
        cursor.execute(_RESERVE, params)
        rows = cursor.fetchall()
    return {pid: free for pid, free, _ in rows}, bool(rows) and rows[0][2]


# Hand-written: the whole reservation in one statement, so hot rows stay locked only while it
# runs; the ORM needs a transaction of 6 statements (17 vs 83 reservations/s, docs/performance.md).
# `locked` takes the row locks in stock-id order (no deadlock between overlapping baskets) and
# reads what is free on the locked versions; every line is reserved only if all of them fit
# (`verdict`), with its ledger row, the reservation and its lines; otherwise nothing is
# written. It answers each locked row's free units and the verdict. The CHECK constraint
# 0 <= reserved <= on_hand stays the last judge.
_RESERVE = f"""
    WITH delta (product_id, qty) AS (
        SELECT * FROM unnest(%(products)s::bigint[], %(quantities)s::integer[])
    ),
    hub AS MATERIALIZED (
        SELECT id FROM {Hub._meta.db_table} WHERE code = %(hub)s AND active
    ),
    locked AS MATERIALIZED (
        SELECT s.id, s.product_id, s.on_hand - s.reserved AS free, delta.qty
          FROM {Stock._meta.db_table} s JOIN delta ON delta.product_id = s.product_id
         WHERE s.hub_id = (SELECT id FROM hub)
         ORDER BY s.id
           FOR UPDATE OF s
    ),
    verdict AS MATERIALIZED (
        SELECT count(*) = %(lines)s AND coalesce(bool_and(free >= qty), false) AS ok FROM locked
    ),
    moved AS (
        UPDATE {Stock._meta.db_table} s
           SET reserved = s.reserved + locked.qty, updated_at = %(now)s
          FROM locked
         WHERE s.id = locked.id AND (SELECT ok FROM verdict)
     RETURNING s.id, s.product_id, locked.qty
    ),
    ledger AS (
        INSERT INTO {StockMovement._meta.db_table}
               (stock_id, kind, on_hand_delta, reserved_delta, actor_id, reason, reference,
                created_at)
        SELECT id, '{MovementKind.RESERVED.value}', 0, qty, NULL, '', %(id)s, %(now)s
          FROM moved ORDER BY id
    ),
    reservation AS (
        INSERT INTO {Reservation._meta.db_table}
               (id, hub_id, reference, status, expires_at, created_at, ended_at, end_reason)
        SELECT %(id)s::uuid, hub.id, %(reference)s, '{ReservationStatus.HELD.value}',
               %(expires)s, %(now)s, NULL, ''
          FROM hub WHERE (SELECT ok FROM verdict)
    ),
    lines AS (
        INSERT INTO {ReservationLine._meta.db_table}
               (reservation_id, stock_id, product_id, quantity, committed, released)
        SELECT %(id)s::uuid, id, product_id, qty, 0, 0 FROM moved
    )
    SELECT locked.product_id, locked.free, verdict.ok FROM locked, verdict
"""
_RESERVE = " ".join(_RESERVE.split())  # one line: psycopg caches its conversion


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


def _shortages(free: dict[int, int], wanted: dict[int, int]) -> tuple[Shortage, ...]:
    """The lines that did not fit, judged on the locked rows (a product the hub does not
    stock has none available)."""
    return tuple(
        Shortage(product_id=pid, requested=qty, available=free.get(pid, 0))
        for pid, qty in sorted(wanted.items())
        if free.get(pid, 0) < qty
    )


# --- release, expire, confirm ------------------------------------------------------------------


def stock_reservation_release(*, reservation_id: str, reason: str = "") -> None:
    """Give the held units back. Idempotent: an ended reservation is left as it is."""
    pk = parse_reservation_id(reservation_id)
    reason = (reason or "released")[:300]
    with transaction.atomic():
        # Ending it takes the reservation's row lock, as lock_reservation would.
        ended = Reservation.objects.filter(pk=pk, status__in=Reservation.LIVE).update(
            status=ReservationStatus.RELEASED, ended_at=timezone.now(), end_reason=reason
        )
        reservations_ended.labels(status=ReservationStatus.RELEASED.value).inc(ended)
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
    reservations_ended.labels(status=status.value).inc(len(reservations))
    now, reason = timezone.now(), reason[:300]
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
        status=status, ended_at=now, end_reason=reason
    )
    for reservation in reservations:
        reservation.status, reservation.ended_at, reservation.end_reason = status, now, reason
    _give_back_holds([r.pk for r in reservations], reason)


def _give_back_holds(reservation_ids: list[uuid.UUID], reason: str) -> None:
    """Release what the lines of these (locked, ending) reservations still hold."""
    params: dict[str, Any] = {
        "ids": reservation_ids,
        "kind": MovementKind.RELEASED.value,
        "now": timezone.now(),
        "reason": reason,
    }
    with connection.cursor() as cursor:
        cursor.execute(_GIVE_BACK, params)
        changes = [
            RowChange(hub_code, product_id, available - held, available)
            for hub_code, product_id, available, held in cursor.fetchall()
        ]
    announce(changes)


# Hand-written, as _RESERVE: a release is this one statement after the reservation's own
# UPDATE, so the stock rows stay locked only for it and the COMMIT. It runs after the
# reservation rows are locked, so it sees every line as whoever held that lock left it.
# `locked` takes the stock rows in stock-id order; a row holding less than its lines fails
# the CHECK constraint reserved >= 0 (the ledger would be broken), and with it the statement.
_GIVE_BACK = f"""
    WITH held AS MATERIALIZED (
        SELECT id, reservation_id, stock_id, quantity - committed - released AS held
          FROM {ReservationLine._meta.db_table}
         WHERE reservation_id = ANY(%(ids)s::uuid[]) AND quantity - committed - released > 0
    ),
    per_stock AS MATERIALIZED (
        SELECT stock_id, sum(held)::integer AS held FROM held GROUP BY stock_id
    ),
    locked AS MATERIALIZED (
        SELECT s.id FROM {Stock._meta.db_table} s
         WHERE s.id IN (SELECT stock_id FROM per_stock)
         ORDER BY s.id
           FOR UPDATE
    ),
    moved AS (
        UPDATE {Stock._meta.db_table} s
           SET reserved = s.reserved - per_stock.held, updated_at = %(now)s
          FROM per_stock
         WHERE s.id = per_stock.stock_id AND s.id IN (SELECT id FROM locked)
     RETURNING s.hub_id, s.product_id, s.on_hand - s.reserved AS available, per_stock.held
    ),
    ledger AS (
        INSERT INTO {StockMovement._meta.db_table}
               (stock_id, kind, on_hand_delta, reserved_delta, actor_id, reason, reference,
                created_at)
        SELECT stock_id, %(kind)s, 0, -held, NULL, %(reason)s, reservation_id::text, %(now)s
          FROM held ORDER BY stock_id
    ),
    lines AS (
        UPDATE {ReservationLine._meta.db_table} line
           SET released = line.released + held.held
          FROM held
         WHERE line.id = held.id
    )
    SELECT hub.code, moved.product_id, moved.available, moved.held
      FROM moved JOIN {Hub._meta.db_table} hub ON hub.id = moved.hub_id
"""
_GIVE_BACK = " ".join(_GIVE_BACK.split())


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
    """The reservation with its lines; raises ReservationNotFoundError."""
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


def stock_reservations_release_held(*, references: Sequence[str], reason: str) -> int:
    """Release the holds (not yet confirmed) made under these references: a checkout that
    failed or died left them. Rows locked elsewhere are skipped (the next run takes them).
    Returns how many were released."""
    with transaction.atomic():
        held = list(
            Reservation.objects.select_for_update(skip_locked=True).filter(
                reference__in=list(references), status=ReservationStatus.HELD
            )
        )
        reservations_end(held, status=ReservationStatus.RELEASED, reason=reason[:300])
    return len(held)
