"""When the catalog last changed, and telling everyone it changed.

Every write through the services calls `publish_changes` inside its transaction: it publishes
ProductChanged / PriceChanged and, once the write has committed, moves every reader of the
read cache to new keys (see readcache.py).
"""

import time
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Max, Subquery

from prime_now.kernel import bus

from ..events import EVENT_BATCH, PriceChanged, ProductChanged
from ..models import Category, Department, Product
from . import readcache

_VERSION_TTL = 1.0  # seconds; HTTP caches are told max-age=60 anyway
# (when read, last change, read-cache generation)
_version_memo: tuple[float, datetime | None, int] | None = None


def _catalog_state() -> tuple[datetime | None, int]:
    global _version_memo
    now = time.monotonic()
    memo = _version_memo
    if memo is not None and now - memo[0] < _VERSION_TTL:
        return memo[1], memo[2]
    # Products and categories hang off departments: no department, nothing at all.
    latest = Department.objects.aggregate(
        d=Max("updated_at"),
        c=Max(Subquery(Category.objects.order_by("-updated_at").values("updated_at")[:1])),
        p=Max(Subquery(Product.objects.order_by("-updated_at").values("updated_at")[:1])),
    )
    stamps: list[datetime] = [s for s in latest.values() if s is not None]
    value = max(stamps) if stamps else None
    generation = readcache.generation()
    _version_memo = (now, value, generation)
    return value, generation


def catalog_last_modified() -> datetime | None:
    """When anything in the catalog last changed (for HTTP validators).

    One indexed query, remembered for a second per process: the API asks on every request,
    and writes through these services forget it at once (other processes within a second).
    """
    return _catalog_state()[0]


def catalog_version() -> str:
    """A token that changes with every catalog change (the API's ETags and the read cache's
    keys). The last change alone can miss a write whose transaction started before another's
    but committed after it, so the writes also bump a shared generation."""
    changed, generation = _catalog_state()
    return f"{changed.isoformat() if changed else '-'}|{generation}"


def forget_last_modified() -> None:
    global _version_memo
    _version_memo = None


def _catalog_changed() -> None:
    readcache.bump_generation()
    forget_last_modified()


def publish_changes(*, product_ids: Iterable[int], price_ids: Iterable[int] = ()) -> None:
    """Publish ProductChanged/PriceChanged for these ids, in batches (call inside the write's
    transaction)."""
    forget_last_modified()  # this process looks the version up again at once
    transaction.on_commit(_catalog_changed)  # everyone moves to new keys once it is visible
    for event_type, ids in ((ProductChanged, product_ids), (PriceChanged, price_ids)):
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), EVENT_BATCH):
            bus.publish(event_type(product_ids=tuple(ordered[start : start + EVENT_BATCH])))
