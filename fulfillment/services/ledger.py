"""How stock changes: moves applied to row-locked stock rows, each written to the ledger.

A use case builds `Move`s and applies them inside its transaction. `apply_moves` locks the
stock rows in stock-id order (so concurrent changes never deadlock), checks that
`0 <= reserved <= on_hand` still holds after every row's moves (else `MoveRefused`, and the
caller's transaction writes nothing), then updates the rows and appends their ledger rows.
The CHECK constraints on the stock table stay the last judge. Reserving and giving back
holds, the hot path, are one statement each with the same lock order (reservations.py).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from prime_now.kernel import bus

from ..events import StockChanged
from ..models import MovementKind, Stock, StockMovement

logger = logging.getLogger(__name__)

AVAILABILITY_CACHE_SECONDS = 5
# Changes of on-hand an operator or a batch makes (stock_adjust takes only these); subscribers
# hear about them.
OPERATOR_KINDS = frozenset(
    {MovementKind.RECEIVED, MovementKind.ADJUSTED, MovementKind.DAMAGED, MovementKind.RETURNED}
)


@dataclass(frozen=True)
class Move:
    stock_id: int
    product_id: int
    kind: MovementKind
    on_hand_delta: int = 0
    reserved_delta: int = 0
    reason: str = ""
    reference: str = ""
    actor_id: int | None = None


class MoveRefused(Exception):
    """A row's moves would break 0 <= reserved <= on_hand: nothing was written."""

    def __init__(self, row: Stock) -> None:
        super().__init__(f"stock row {row.pk} refused the move")
        self.row = row

    @property
    def product_id(self) -> int:
        return self.row.product_id


def locked_stock(rows: "QuerySet[Stock]") -> list[Stock]:
    """The rows, locked for update in stock-id order (the one lock order for stock rows).
    Only the stock rows are locked, not the joined hub (`of`)."""
    return list(rows.select_for_update(of=("self",)).select_related("hub").order_by("id"))


def apply_moves(moves: Sequence[Move]) -> None:
    """Lock the moved rows and apply the moves. Must run inside transaction.atomic()."""
    stock_ids = {move.stock_id for move in moves if move.on_hand_delta or move.reserved_delta}
    if stock_ids:
        write_moves(locked_stock(Stock.objects.filter(pk__in=stock_ids)), moves)


def write_moves(rows: Sequence[Stock], moves: Sequence[Move]) -> None:
    """Apply the moves to rows the caller locked (locked_stock): all or none."""
    moves = [move for move in moves if move.on_hand_delta or move.reserved_delta]
    deltas: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for move in moves:
        on_hand, reserved = deltas[move.stock_id]
        deltas[move.stock_id] = (on_hand + move.on_hand_delta, reserved + move.reserved_delta)
    changed = [row for row in rows if row.pk in deltas]
    if len(changed) != len(deltas):
        raise RuntimeError("a move names a stock row that was not locked")
    for row in changed:
        on_hand, reserved = deltas[row.pk]
        if not 0 <= row.reserved + reserved <= row.on_hand + on_hand:
            raise MoveRefused(row)
    available_before = {row.pk: row.available for row in changed}
    now = timezone.now()
    _update_rows(deltas, now)
    for row in changed:
        on_hand, reserved = deltas[row.pk]
        row.on_hand += on_hand
        row.reserved += reserved
        row.updated_at = now
    StockMovement.objects.bulk_create(_ledger_row(move, now) for move in moves)
    _announce(changed, available_before, moves)


def _update_rows(deltas: dict[int, tuple[int, int]], now: datetime) -> None:
    """One `UPDATE ... SET on_hand = on_hand + n, reserved = reserved + m` per distinct
    change (a basket's rows mostly change alike): cheap to build, unlike bulk_update's CASE
    per row and field."""
    alike: dict[tuple[int, int], list[int]] = defaultdict(list)
    for stock_id, change in deltas.items():
        alike[change].append(stock_id)
    for (on_hand, reserved), stock_ids in alike.items():
        Stock.objects.filter(pk__in=stock_ids).update(
            on_hand=F("on_hand") + on_hand, reserved=F("reserved") + reserved, updated_at=now
        )


def _ledger_row(move: Move, now: datetime) -> StockMovement:
    return StockMovement(
        stock_id=move.stock_id,
        kind=move.kind,
        on_hand_delta=move.on_hand_delta,
        reserved_delta=move.reserved_delta,
        reason=move.reason[:300],
        reference=move.reference[:64],
        actor_id=move.actor_id,
        created_at=now,
    )


@dataclass(frozen=True)
class RowChange:
    """What one change did to a stock row's availability, for subscribers and the cache."""

    hub_code: str
    product_id: int
    available_before: int
    available_after: int
    announced: bool = False  # an operator's or a batch's change of on-hand


def _announce(
    changed: Sequence[Stock], available_before: dict[int, int], moves: Sequence[Move]
) -> None:
    announced = {m.stock_id for m in moves if m.kind in OPERATOR_KINDS and m.on_hand_delta}
    announce(
        [
            RowChange(
                row.hub.code,
                row.product_id,
                available_before[row.pk],
                row.available,
                announced=row.pk in announced,
            )
            for row in changed
        ]
    )


def announce(changes: Sequence[RowChange]) -> None:
    """Publish StockChanged for on-hand changes an operator or a batch made and for products
    that went out of stock or came back; drop cached availability after commit."""
    by_hub: dict[str, set[int]] = defaultdict(set)
    for change in changes:
        went_over = (change.available_before > 0) != (change.available_after > 0)
        if went_over or change.announced:
            by_hub[change.hub_code].add(change.product_id)
    for hub_code, product_ids in sorted(by_hub.items()):
        bus.publish(StockChanged(hub_code=hub_code, product_ids=tuple(sorted(product_ids))))
    for hub_code in {change.hub_code for change in changes}:
        dropped = [change.product_id for change in changes if change.hub_code == hub_code]
        transaction.on_commit(partial(forget_cached, hub_code, dropped))


# --- cached availability (listings only: a reservation never reads it) -----------------------


def availability_key(hub_code: str, product_id: int) -> str:
    return f"fulfillment:available:{hub_code}:{product_id}"


def in_stock_key(hub_code: str) -> str:
    return f"fulfillment:in-stock:{hub_code}"


def forget_cached(hub_code: str, product_ids: Iterable[int]) -> None:
    keys = [availability_key(hub_code, pid) for pid in product_ids] + [in_stock_key(hub_code)]
    try:
        cache.delete_many(keys)
    except Exception:  # the cache is an optimisation: never fail a stock change over it
        logger.warning("fulfillment: could not drop cached availability", exc_info=True)


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    try:
        return cache.get_many(keys)
    except Exception:
        logger.warning("fulfillment: availability cache unavailable", exc_info=True)
        return {}


def cache_set_many(values: dict[str, object]) -> None:
    try:
        cache.set_many(values, timeout=AVAILABILITY_CACHE_SECONDS)
    except Exception:
        logger.warning("fulfillment: availability cache unavailable", exc_info=True)
