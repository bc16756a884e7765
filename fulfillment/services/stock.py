"""Stock that never oversells.

Every change is a `Move`: one conditional UPDATE on the stock row (it only applies while
`0 <= reserved <= on_hand` stays true after it) plus one ledger row. A use case applies its
moves inside one short transaction, always in stock-id order, so concurrent baskets never
deadlock, and raises (rolling everything back) when any move does not apply.

Availability is read in one query and cached for a few seconds for listings; a reservation
never trusts the cache: the conditional UPDATE is the only judge.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from prime_now.kernel import bus

from ..events import StockChanged
from ..models import Hub, Reservation, ReservationLine, Stock, StockMovement
from .dto import (
    HubInactiveError,
    HubNotFoundError,
    InsufficientStockError,
    ReservationDTO,
    ReservationExpiredError,
    ReservationNotFoundError,
    Shortage,
    StockLevelDTO,
    StockLine,
    StockMismatch,
    StockValidationError,
)

logger = logging.getLogger(__name__)

AVAILABILITY_CACHE_SECONDS = 5
MAX_HOLD = timedelta(days=7)
MAX_LINES = 200
Kind = StockMovement.Kind
# Changes of on-hand an operator or a batch made: subscribers hear about them.
ANNOUNCED_KINDS = {Kind.RECEIVED, Kind.ADJUSTED, Kind.DAMAGED, Kind.RETURNED}


@dataclass(frozen=True)
class Move:
    stock_id: int
    product_id: int
    kind: str
    on_hand_delta: int = 0
    reserved_delta: int = 0
    reason: str = ""
    reference: str = ""
    actor_id: int | None = None


class _MoveRefused(Exception):
    def __init__(self, product_id: int) -> None:
        self.product_id = product_id


# --- hubs --------------------------------------------------------------------------------------


def get_hub(code: str, *, for_orders: bool = False) -> Hub:
    hub = Hub.objects.filter(code=code).first()
    if hub is None:
        raise HubNotFoundError(fields={"hub_code": code})
    if for_orders and not hub.active:
        raise HubInactiveError(fields={"hub_code": code})
    return hub


# --- the one way stock changes ---------------------------------------------------------------


def apply_moves(hub: Hub, moves: Sequence[Move]) -> None:
    """Apply moves in stock-id order; raise _MoveRefused (caller's transaction rolls back)
    when one would break 0 <= reserved <= on_hand. Must run inside transaction.atomic()."""
    by_stock: dict[int, list[Move]] = defaultdict(list)
    for move in moves:
        if move.on_hand_delta or move.reserved_delta:
            by_stock[move.stock_id].append(move)
    if not by_stock:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        available_after = _apply_all_at_once(by_stock, now)
    else:
        available_after = _apply_one_by_one(by_stock, now)
    StockMovement.objects.bulk_create(
        StockMovement(
            stock_id=m.stock_id,
            kind=m.kind,
            on_hand_delta=m.on_hand_delta,
            reserved_delta=m.reserved_delta,
            reason=m.reason[:300],
            reference=m.reference[:64],
            actor_id=m.actor_id,
            created_at=now,
        )
        for stock_id in sorted(by_stock)
        for m in by_stock[stock_id]
    )
    _after_change(hub, moves, available_after)


def _deltas(moves: list[Move]) -> tuple[int, int]:
    return sum(m.on_hand_delta for m in moves), sum(m.reserved_delta for m in moves)


def _apply_one_by_one(by_stock: dict[int, list[Move]], now: datetime) -> dict[int, int]:
    available_after: dict[int, int] = {}
    with connection.cursor() as cursor:
        for stock_id in sorted(by_stock):
            d_on, d_res = _deltas(by_stock[stock_id])
            # The one conditional UPDATE: applies only if 0 <= reserved <= on_hand still holds.
            cursor.execute(_CONDITIONAL_UPDATE, [d_on, d_res, now, stock_id, d_res, d_on, d_res])
            row = cursor.fetchone()
            if row is None:
                raise _MoveRefused(by_stock[stock_id][0].product_id)
            available_after[row[0]] = row[1]
    return available_after


def _apply_all_at_once(by_stock: dict[int, list[Move]], now: datetime) -> dict[int, int]:
    """PostgreSQL: every row in one statement. The `locked` CTE takes the row locks in
    stock-id order (no deadlock between overlapping baskets); the UPDATE then applies each
    delta only where 0 <= reserved <= on_hand still holds. A row missing from RETURNING was
    refused: the caller's transaction rolls the others back (all or none)."""
    ids = sorted(by_stock)
    values, params = [], []
    for stock_id in ids:
        values.append("(%s::bigint, %s::integer, %s::integer)")
        params.extend([stock_id, *_deltas(by_stock[stock_id])])
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_UPDATE.format(values=", ".join(values)), [*params, now])
        applied = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
    for stock_id in ids:
        if stock_id not in applied:
            raise _MoveRefused(by_stock[stock_id][0].product_id)
    return dict(applied.values())


_BATCH_UPDATE = f"""
    WITH delta (stock_id, d_on, d_res) AS (VALUES {{values}}),
    locked AS (
        SELECT s.id FROM {Stock._meta.db_table} s
         WHERE s.id IN (SELECT stock_id FROM delta)
         ORDER BY s.id
           FOR UPDATE
    )
    UPDATE {Stock._meta.db_table} s
       SET on_hand = s.on_hand + delta.d_on, reserved = s.reserved + delta.d_res, updated_at = %s
      FROM delta
     WHERE s.id = delta.stock_id
       AND s.id IN (SELECT id FROM locked)
       AND s.reserved + delta.d_res >= 0
       AND s.on_hand + delta.d_on >= s.reserved + delta.d_res
 RETURNING s.id, s.product_id, s.on_hand - s.reserved
"""

_CONDITIONAL_UPDATE = f"""
    UPDATE {Stock._meta.db_table}
       SET on_hand = on_hand + %s, reserved = reserved + %s, updated_at = %s
     WHERE id = %s AND reserved + %s >= 0 AND on_hand + %s >= reserved + %s
 RETURNING product_id, on_hand - reserved
"""


def _after_change(hub: Hub, moves: Sequence[Move], available_after: dict[int, int]) -> None:
    announce = {m.product_id for m in moves if m.kind in ANNOUNCED_KINDS and m.on_hand_delta}
    freed: dict[int, int] = defaultdict(int)  # product -> units made available by this change
    for m in moves:
        freed[m.product_id] += m.on_hand_delta - m.reserved_delta
    _announce(hub.code, freed, announce, available_after)


def _announce(
    hub_code: str, freed: dict[int, int], announce: set[int], available_after: dict[int, int]
) -> None:
    """Drop cached availability after commit; announce on-hand changes and products that
    went out of stock or came back (`freed`: units made available per product)."""
    for product_id, available in available_after.items():
        delta = freed.get(product_id, 0)
        if (delta < 0 and available == 0) or (delta > 0 and available == delta):
            announce.add(product_id)
    if announce:
        bus.publish(StockChanged(hub_code=hub_code, product_ids=tuple(sorted(announce))))
    transaction.on_commit(partial(_forget_cached, hub_code, sorted(available_after)))


def _availability_key(hub_code: str, product_id: int) -> str:
    return f"fulfillment:available:{hub_code}:{product_id}"


def _in_stock_key(hub_code: str) -> str:
    return f"fulfillment:in-stock:{hub_code}"


def _forget_cached(hub_code: str, product_ids: Iterable[int]) -> None:
    keys = [_availability_key(hub_code, pid) for pid in product_ids] + [_in_stock_key(hub_code)]
    try:
        cache.delete_many(keys)
    except Exception:  # the cache is an optimisation: never fail a stock change over it
        logger.warning("fulfillment: could not drop cached availability", exc_info=True)


def _cache_get_many(keys: list[str]) -> dict:
    try:
        return cache.get_many(keys)
    except Exception:
        logger.warning("fulfillment: availability cache unavailable", exc_info=True)
        return {}


def _cache_set_many(values: dict) -> None:
    try:
        cache.set_many(values, timeout=AVAILABILITY_CACHE_SECONDS)
    except Exception:
        logger.warning("fulfillment: availability cache unavailable", exc_info=True)


# --- availability ------------------------------------------------------------------------------


def stock_available(*, hub_code: str, product_ids: Iterable[int]) -> dict[int, int]:
    """Available (on hand − reserved) per product at the hub, 0 for unknown products.
    One query for the whole page; cached for a few seconds; never used to reserve."""
    ids = list(dict.fromkeys(int(pid) for pid in product_ids))
    if not ids:
        return {}
    keys = {_availability_key(hub_code, pid): pid for pid in ids}
    result = {keys[key]: value for key, value in _cache_get_many(list(keys)).items()}
    missing = [pid for pid in ids if pid not in result]
    if missing:
        fresh = dict.fromkeys(missing, 0)
        rows = (
            Stock.objects.filter(hub__code=hub_code, product_id__in=missing)
            .annotate(free=F("on_hand") - F("reserved"))
            .values_list("product_id", "free")
        )
        fresh.update(rows)
        if not any(fresh.values()) and not Hub.objects.filter(code=hub_code).exists():
            raise HubNotFoundError(fields={"hub_code": hub_code})
        _cache_set_many({_availability_key(hub_code, pid): n for pid, n in fresh.items()})
        result.update(fresh)
    return {pid: result[pid] for pid in ids}


def product_ids_in_stock(*, hub_code: str) -> frozenset[int]:
    """Products with at least one unit available at the hub (for filtering listings)."""
    key = _in_stock_key(hub_code)
    cached = _cache_get_many([key]).get(key)
    if cached is not None:
        return frozenset(cached)
    hub = get_hub(hub_code)
    ids = frozenset(
        Stock.objects.filter(hub=hub, on_hand__gt=F("reserved")).values_list(
            "product_id", flat=True
        )
    )
    _cache_set_many({key: sorted(ids)})
    return ids


def stock_levels(*, hub_code: str, product_ids: Iterable[int] | None = None) -> tuple:
    """Stock rows at a hub as StockLevelDTOs (operators, reports)."""
    hub = get_hub(hub_code)
    rows = Stock.objects.filter(hub=hub)
    if product_ids is not None:
        rows = rows.filter(product_id__in=list(product_ids))
    return tuple(_level(hub, row) for row in rows.order_by("aisle", "bin", "sku"))


def _level(hub: Hub, row: Stock) -> StockLevelDTO:
    return StockLevelDTO(
        hub_code=hub.code,
        product_id=row.product_id,
        sku=row.sku,
        name=row.name,
        aisle=row.aisle,
        bin=row.bin,
        on_hand=row.on_hand,
        reserved=row.reserved,
        available=row.on_hand - row.reserved,
        low_stock_threshold=row.low_stock_threshold,
    )


def low_stock(*, hub_code: str | None = None) -> tuple[StockLevelDTO, ...]:
    """Rows whose available quantity is at or below their threshold."""
    rows = Stock.objects.select_related("hub").annotate(free=F("on_hand") - F("reserved"))
    if hub_code:
        rows = rows.filter(hub=get_hub(hub_code))
    rows = rows.filter(free__lte=F("low_stock_threshold")).order_by("hub__code", "free", "sku")
    return tuple(_level(row.hub, row) for row in rows)


# --- reservations ------------------------------------------------------------------------------


def _merge_lines(lines: Sequence[StockLine]) -> dict[int, int]:
    if not lines:
        raise StockValidationError("A reservation needs at least one line.", fields={"lines": []})
    if len(lines) > MAX_LINES:
        raise StockValidationError(f"At most {MAX_LINES} lines.", fields={"lines": len(lines)})
    wanted: dict[int, int] = defaultdict(int)
    for index, line in enumerate(lines):
        if (
            not isinstance(line.quantity, int)
            or isinstance(line.quantity, bool)
            or line.quantity < 1
        ):
            raise StockValidationError(
                "Each quantity must be a whole number of at least 1.",
                fields={f"lines[{index}].quantity": line.quantity},
            )
        wanted[int(line.product_id)] += line.quantity
    return dict(wanted)


def _parse_id(reservation_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(reservation_id))
    except ValueError:
        raise ReservationNotFoundError(fields={"reservation_id": reservation_id})


def _reservation_dto(reservation: Reservation, hub_code: str, lines=None) -> ReservationDTO:
    lines = reservation.lines.all() if lines is None else lines
    return ReservationDTO(
        id=str(reservation.id),
        hub_code=hub_code,
        reference=reservation.reference,
        status=reservation.status,
        expires_at=reservation.expires_at,
        lines=tuple(
            StockLine(product_id=line.product_id, quantity=line.quantity) for line in lines
        ),
    )


def stock_reserve(
    *, hub_code: str, lines: Sequence[StockLine], hold_for: timedelta, reference: str
) -> ReservationDTO:
    """Hold every line for `hold_for`, or none: raises InsufficientStockError with the
    shortages. Rows are locked in stock-id order; on PostgreSQL the whole reservation is one
    statement (see _reserve_in_one_statement)."""
    wanted = _merge_lines(lines)
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
    if connection.vendor == "postgresql":
        return _reserve_in_one_statement(hub_code, wanted, hold_for, reference)
    # The stock rows with their hub in one query; the hub alone only when no row matched.
    rows = list(
        Stock.objects.filter(hub__code=hub_code, product_id__in=list(wanted))
        .select_related("hub")
        .only("id", "product_id", "hub")
    )
    hub = rows[0].hub if rows else get_hub(hub_code, for_orders=True)
    if not hub.active:
        raise HubInactiveError(fields={"hub_code": hub_code})
    stock_ids = {row.product_id: row.id for row in rows}
    if len(stock_ids) < len(wanted):
        raise InsufficientStockError(shortages=_shortages(hub, wanted))
    reservation_id = uuid.uuid4()
    ref = str(reservation_id)
    moves = [
        Move(stock_ids[pid], pid, Kind.RESERVED, reserved_delta=qty, reference=ref)
        for pid, qty in wanted.items()
    ]
    try:
        with transaction.atomic():
            apply_moves(hub, moves)
            now = timezone.now()
            reservation = Reservation.objects.create(
                id=reservation_id,
                hub=hub,
                reference=reference,
                status=Reservation.Status.HELD,
                created_at=now,
                expires_at=now + hold_for,
            )
            created = ReservationLine.objects.bulk_create(
                ReservationLine(
                    reservation=reservation,
                    stock_id=stock_ids[pid],
                    product_id=pid,
                    quantity=qty,
                )
                for pid, qty in sorted(wanted.items())
            )
    except _MoveRefused as refused:
        shortages = _shortages(hub, wanted)
        if not any(s.product_id == refused.product_id for s in shortages):
            # Freed again between the refused update and this read: still report it.
            shortages += (
                Shortage(
                    product_id=refused.product_id,
                    requested=wanted[refused.product_id],
                    available=max(0, wanted[refused.product_id] - 1),
                ),
            )
        raise InsufficientStockError(shortages=shortages)
    return _reservation_dto(reservation, hub.code, created)


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
     RETURNING s.id, s.product_id, s.on_hand - s.reserved AS available, locked.qty
    ),
    ledger AS (
        INSERT INTO {StockMovement._meta.db_table}
               (stock_id, kind, on_hand_delta, reserved_delta, actor_id, reason, reference,
                created_at)
        SELECT id, '{Kind.RESERVED.value}', 0, qty, NULL, '', %(id)s, %(now)s
          FROM moved ORDER BY id
    ),
    reservation AS (
        INSERT INTO {Reservation._meta.db_table}
               (id, hub_id, reference, status, expires_at, created_at, ended_at, end_reason)
        SELECT %(id)s::uuid, hub.id, %(reference)s, '{Reservation.Status.HELD.value}',
               %(expires)s, %(now)s, NULL, ''
          FROM hub WHERE (SELECT ok FROM verdict)
    ),
    lines AS (
        INSERT INTO {ReservationLine._meta.db_table}
               (reservation_id, stock_id, product_id, quantity, committed, released)
        SELECT %(id)s::uuid, id, product_id, qty, 0, 0 FROM moved
    )
    SELECT product_id, available FROM moved
"""
_RESERVE = " ".join(_RESERVE.split())  # one line: psycopg caches its conversion


def _reserve_in_one_statement(
    hub_code: str, wanted: dict[int, int], hold_for: timedelta, reference: str
) -> ReservationDTO:
    """PostgreSQL: the whole reservation in one statement (one round trip, no transaction
    block), so the stock rows stay locked only while it runs. `locked` takes the row locks in
    stock-id order (no deadlock between overlapping baskets) and reads what is free on the
    locked versions; every line is reserved only if all of them fit (`verdict`), with the
    ledger rows, the reservation and its lines; otherwise nothing is written. The CHECK
    constraint 0 <= reserved <= on_hand stays the last judge: a violation fails the statement
    as a whole."""
    reservation_id = uuid.uuid4()
    lines = sorted(wanted.items())
    params: dict = {
        "hub": hub_code,
        "lines": len(lines),
        "id": str(reservation_id),
        "reference": reference,
        "products": [pid for pid, _ in lines],
        "quantities": [qty for _, qty in lines],
    }
    for _attempt in range(2):
        now = timezone.now()
        params["now"], params["expires"] = now, now + hold_for
        # A lone statement is atomic; inside the caller's transaction a savepoint keeps a
        # failed statement from breaking it.
        with (
            transaction.atomic() if connection.in_atomic_block else nullcontext(),
            connection.cursor() as cursor,
        ):
            cursor.execute(_RESERVE, params)
            available_after = dict(cursor.fetchall())
        if available_after:
            break
        hub = get_hub(hub_code, for_orders=True)
        shortages = _shortages(hub, wanted)
        if shortages:
            raise InsufficientStockError(shortages=shortages)
        # Freed again between the refused statement and this read: try once more.
    else:
        raise InsufficientStockError(shortages=_shortages(get_hub(hub_code), wanted))
    _announce(hub_code, {pid: -qty for pid, qty in lines}, set(), available_after)
    return ReservationDTO(
        id=str(reservation_id),
        hub_code=hub_code,
        reference=reference,
        status=Reservation.Status.HELD,
        expires_at=now + hold_for,
        lines=tuple(StockLine(product_id=pid, quantity=qty) for pid, qty in lines),
    )


def _shortages(hub: Hub, wanted: dict[int, int]) -> tuple[Shortage, ...]:
    available = dict.fromkeys(wanted, 0)
    available.update(
        Stock.objects.filter(hub=hub, product_id__in=list(wanted))
        .annotate(free=F("on_hand") - F("reserved"))
        .values_list("product_id", "free")
    )
    return tuple(
        Shortage(product_id=pid, requested=qty, available=available[pid])
        for pid, qty in sorted(wanted.items())
        if available[pid] < qty
    )


def end_reservations(
    reservations: Sequence[Reservation], *, status: str, reason: str, kind: str = Kind.RELEASED
) -> None:
    """Release what the (row-locked, live) reservations still hold and end them."""
    if not reservations:
        return
    now = timezone.now()
    lines = list(
        ReservationLine.objects.filter(reservation__in=reservations).select_related("reservation")
    )
    by_hub: dict[int, list[Move]] = defaultdict(list)
    for line in lines:
        if line.held:
            by_hub[line.reservation.hub_id].append(
                Move(
                    line.stock_id,
                    line.product_id,
                    kind,
                    reserved_delta=-line.held,
                    reason=reason,
                    reference=str(line.reservation_id),
                )
            )
    hubs = Hub.objects.in_bulk(list(by_hub))
    for hub_id, moves in by_hub.items():
        try:
            apply_moves(hubs[hub_id], moves)
        except _MoveRefused as refused:  # reserved fell below a live hold: the ledger is broken
            raise RuntimeError(
                f"stock row for product {refused.product_id} holds less than its reservations"
            )
    for line in lines:
        line.released += line.held
    ReservationLine.objects.bulk_update(lines, ["released"])
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
        status=status, ended_at=now, end_reason=reason[:300]
    )
    for r in reservations:
        r.status, r.ended_at, r.end_reason = status, now, reason[:300]


def lock_reservation(reservation_id: str) -> Reservation:
    # Lock the reservation row only (`of`): locking the joined hub row too would deadlock
    # with a concurrent reserve, whose inserts take a key-share lock on that hub.
    reservation = (
        Reservation.objects.select_for_update(of=("self",))
        .select_related("hub")
        .filter(pk=_parse_id(reservation_id))
        .first()
    )
    if reservation is None:
        raise ReservationNotFoundError(fields={"reservation_id": str(reservation_id)})
    return reservation


def stock_reservation_get(*, reservation_id: str) -> ReservationDTO:
    reservation = (
        Reservation.objects.select_related("hub").filter(pk=_parse_id(reservation_id)).first()
    )
    if reservation is None:
        raise ReservationNotFoundError(fields={"reservation_id": str(reservation_id)})
    return _reservation_dto(reservation, reservation.hub.code)


_CONFIRM = f"""
    UPDATE {Reservation._meta.db_table}
       SET status = '{Reservation.Status.CONFIRMED.value}', expires_at = NULL
     WHERE id = %s AND status = '{Reservation.Status.HELD.value}' AND expires_at > %s
"""


def stock_reservation_confirm(*, reservation_id: str) -> None:
    """The order was placed: the hold no longer expires. Idempotent.
    Raises ReservationExpiredError when the hold already lapsed (its units are released)."""
    # The usual case in one statement: a live hold becomes confirmed.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_CONFIRM, [_parse_id(reservation_id), timezone.now()])
            if cursor.rowcount:
                return
    elif Reservation.objects.filter(
        pk=_parse_id(reservation_id),
        status=Reservation.Status.HELD,
        expires_at__gt=timezone.now(),
    ).update(status=Reservation.Status.CONFIRMED, expires_at=None):
        return
    expired = False
    with transaction.atomic():
        reservation = lock_reservation(reservation_id)
        status = reservation.status
        if status in (Reservation.Status.CONFIRMED, Reservation.Status.COMMITTED):
            return
        if status == Reservation.Status.HELD and reservation.expires_at > timezone.now():
            Reservation.objects.filter(pk=reservation.pk).update(
                status=Reservation.Status.CONFIRMED, expires_at=None
            )
            return
        if status == Reservation.Status.HELD:
            end_reservations(
                [reservation], status=Reservation.Status.EXPIRED, reason="hold expired"
            )
        expired = True
    if expired:
        raise ReservationExpiredError(
            fields={"reservation_id": str(reservation_id), "status": reservation.status}
        )


_END_RESERVATION = f"""
    UPDATE {Reservation._meta.db_table} r
       SET status = %(status)s, ended_at = %(now)s, end_reason = %(reason)s
     WHERE r.id = %(id)s AND r.status IN ({", ".join(f"'{s.value}'" for s in Reservation.LIVE)})
 RETURNING (SELECT code FROM {Hub._meta.db_table} WHERE id = r.hub_id)
"""
_RELEASE_LINES = f"""
    WITH held AS MATERIALIZED (
        SELECT id, stock_id, quantity - committed - released AS held
          FROM {ReservationLine._meta.db_table}
         WHERE reservation_id = %(id)s AND quantity - committed - released > 0
    ),
    locked AS MATERIALIZED (
        SELECT s.id FROM {Stock._meta.db_table} s
         WHERE s.id IN (SELECT stock_id FROM held)
         ORDER BY s.id
           FOR UPDATE
    ),
    moved AS (
        UPDATE {Stock._meta.db_table} s
           SET reserved = s.reserved - held.held, updated_at = %(now)s
          FROM held
         WHERE s.id = held.stock_id AND s.id IN (SELECT id FROM locked)
           AND s.reserved >= held.held
     RETURNING s.id, s.product_id, s.on_hand - s.reserved AS available, held.held
    ),
    ledger AS (
        INSERT INTO {StockMovement._meta.db_table}
               (stock_id, kind, on_hand_delta, reserved_delta, actor_id, reason, reference,
                created_at)
        SELECT id, %(kind)s, 0, -held, NULL, %(reason)s, %(reference)s, %(now)s
          FROM moved ORDER BY id
    ),
    lines AS (
        UPDATE {ReservationLine._meta.db_table} line
           SET released = line.released + held.held
          FROM held
         WHERE line.id = held.id
    )
    SELECT (SELECT count(*) FROM held), array_agg(product_id), array_agg(available),
           array_agg(held)
      FROM moved
"""
_END_RESERVATION = " ".join(_END_RESERVATION.split())
_RELEASE_LINES = " ".join(_RELEASE_LINES.split())


def _release_in_two_statements(reservation_id: uuid.UUID, reason: str) -> None:
    """PostgreSQL: end the reservation (its row lock first, as everywhere), then give back
    what its lines still hold: stock rows locked in stock-id order, ledger and lines in one
    statement, whose snapshot is taken after the reservation lock (so it sees every line as
    whoever held that lock before left it). The stock rows stay locked only for that
    statement and the COMMIT."""
    now = timezone.now()
    params = {
        "id": reservation_id,
        "status": Reservation.Status.RELEASED,
        "kind": Kind.RELEASED,
        "now": now,
        "reason": reason[:300],
        "reference": str(reservation_id),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_END_RESERVATION, params)
        ended = cursor.fetchone()
        if ended is None:  # ended already (idempotent), or no such reservation
            if not Reservation.objects.filter(pk=reservation_id).exists():
                raise ReservationNotFoundError(fields={"reservation_id": str(reservation_id)})
            return
        cursor.execute(_RELEASE_LINES, params)
        wanted, product_ids, available, held = cursor.fetchone()
        product_ids, available, held = product_ids or [], available or [], held or []
        if len(product_ids) != wanted:  # a stock row holds less than this reservation
            raise RuntimeError(f"stock rows hold less than reservation {reservation_id}")
        _announce(
            ended[0],
            dict(zip(product_ids, held, strict=True)),
            set(),
            dict(zip(product_ids, available, strict=True)),
        )


def stock_reservation_release(*, reservation_id: str, reason: str = "") -> None:
    """Give the held units back. Idempotent: an ended reservation is left as it is."""
    if connection.vendor == "postgresql":
        _release_in_two_statements(_parse_id(reservation_id), reason or "released")
        return
    with transaction.atomic():
        reservation = lock_reservation(reservation_id)
        if reservation.is_live:
            end_reservations(
                [reservation], status=Reservation.Status.RELEASED, reason=reason or "released"
            )


def reservations_expire(*, now: datetime | None = None, batch: int = 500) -> int:
    """Release holds past their time. Rows are claimed with SKIP LOCKED, so any number of
    sweepers can run at once and a hold being confirmed or picked is left alone."""
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                Reservation.objects.select_for_update(skip_locked=True)
                .filter(status=Reservation.Status.HELD, expires_at__lte=now or timezone.now())
                .order_by("expires_at")[:batch]
            )
            end_reservations(due, status=Reservation.Status.EXPIRED, reason="hold expired")
        total += len(due)
        if len(due) < batch:
            return total


# --- operator changes --------------------------------------------------------------------------


def stock_row(
    hub: Hub, *, product_id: int, sku: str, name: str = "", aisle: str = "", bin: str = ""
) -> Stock:
    """The stock row for a product at a hub, created empty (0/0) the first time."""
    row, created = Stock.objects.get_or_create(
        hub=hub,
        product_id=product_id,
        defaults={"sku": sku, "name": name[:300], "aisle": aisle, "bin": bin},
    )
    changed = {}
    if aisle and row.aisle != aisle:
        changed["aisle"] = aisle
    if bin and row.bin != bin:
        changed["bin"] = bin
    if name and row.name != name[:300]:
        changed["name"] = name[:300]
    if changed and not created:
        Stock.objects.filter(pk=row.pk).update(**changed)
        for key, value in changed.items():
            setattr(row, key, value)
    return row


def stock_adjust(
    *,
    hub_code: str,
    product_id: int,
    delta: int,
    kind: str = Kind.ADJUSTED,
    reason: str,
    actor_id: int | None = None,
    reference: str = "",
) -> StockLevelDTO:
    """Add or remove units on hand (received, adjusted, damaged, returned), with why.
    Never takes units that are reserved: raises InsufficientStockError instead."""
    if kind not in {Kind.RECEIVED, Kind.ADJUSTED, Kind.DAMAGED, Kind.RETURNED}:
        raise StockValidationError("Not an adjustment kind.", fields={"kind": kind})
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        raise StockValidationError(
            "Give a non-zero whole number of units.", fields={"delta": delta}
        )
    if kind in {Kind.RECEIVED, Kind.RETURNED} and delta < 0:
        raise StockValidationError(f"{kind} adds units.", fields={"delta": delta})
    if kind == Kind.DAMAGED and delta > 0:
        raise StockValidationError("damaged removes units.", fields={"delta": delta})
    if not (reason or "").strip():
        raise StockValidationError("Say why stock changes.", fields={"reason": "required"})
    hub = get_hub(hub_code)
    row = Stock.objects.filter(hub=hub, product_id=product_id).first()
    if row is None:
        raise StockValidationError(
            "This product is not stocked at this hub; receive it first.",
            fields={"product_id": product_id},
        )
    move = Move(
        row.pk,
        product_id,
        kind,
        on_hand_delta=delta,
        reason=reason,
        reference=reference,
        actor_id=actor_id,
    )
    try:
        with transaction.atomic():
            apply_moves(hub, [move])
    except _MoveRefused:
        row.refresh_from_db()
        raise InsufficientStockError(
            f"Only {row.on_hand - row.reserved} of {row.sku} are not reserved.",
            shortages=(Shortage(product_id, -delta, row.on_hand - row.reserved),),
        )
    row.refresh_from_db()
    return _level(hub, row)


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
    hub = get_hub(hub_code)
    with transaction.atomic():
        stock_row(hub, product_id=product_id, sku=sku, name=name, aisle=aisle, bin=bin)
        return stock_adjust(
            hub_code=hub_code,
            product_id=product_id,
            delta=quantity,
            kind=Kind.RECEIVED,
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
    if not isinstance(counted, int) or counted < 0:
        raise StockValidationError("A count is a whole number ≥ 0.", fields={"on_hand": counted})
    hub = get_hub(hub_code)
    with transaction.atomic():
        row = stock_row(hub, product_id=product_id, sku=sku, name=name, aisle=aisle, bin=bin)
        row = Stock.objects.select_for_update().get(pk=row.pk)
        delta = counted - row.on_hand
        if counted < row.reserved:
            raise InsufficientStockError(
                f"Counted {counted} of {sku} but {row.reserved} are reserved for open orders.",
                shortages=(Shortage(product_id, row.reserved, counted),),
            )
        if delta:
            apply_moves(
                hub,
                [
                    Move(
                        row.pk,
                        product_id,
                        Kind.ADJUSTED,
                        on_hand_delta=delta,
                        reason=reason,
                        reference=reference,
                        actor_id=actor_id,
                    )
                ],
            )
    return delta


@dataclass(frozen=True)
class NewStock:
    product_id: int
    sku: str
    name: str
    on_hand: int
    aisle: str = ""
    bin: str = ""


def stock_receive_new(
    *, hub_code: str, items: Sequence[NewStock], reason: str, reference: str = ""
) -> int:
    """Bulk goods-in for products not yet stocked at the hub (seeding, onboarding a hub):
    rows and their opening "received" movements in one transaction. Products already
    stocked are skipped (idempotent). Returns how many rows were created."""
    hub = get_hub(hub_code)
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
        Stock.objects.bulk_create(
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
        ids = dict(
            Stock.objects.filter(hub=hub, product_id__in=[i.product_id for i in fresh]).values_list(
                "product_id", "id"
            )
        )
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    stock_id=ids[i.product_id],
                    kind=Kind.RECEIVED,
                    on_hand_delta=i.on_hand,
                    reason=reason,
                    reference=reference,
                    created_at=now,
                )
                for i in fresh
                if i.on_hand
            ],
            batch_size=2000,
        )
        bus.publish(StockChanged(hub_code=hub.code, product_ids=tuple(sorted(ids))))
        transaction.on_commit(partial(_forget_cached, hub.code, []))
    return len(fresh)


# --- proofs ------------------------------------------------------------------------------------


def stock_verify(*, hub_code: str | None = None) -> tuple[StockMismatch, ...]:
    """Rows whose on-hand/reserved differ from their ledger, or whose reserved differs
    from the units their reservations still hold. Empty means all is well."""
    rows = Stock.objects.select_related("hub")
    if hub_code:
        rows = rows.filter(hub=get_hub(hub_code))
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
