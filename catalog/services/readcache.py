"""A shared, short-lived cache for the catalog's public reads (private to the catalog).

What is stored: `product_search` pages (DTOs) and the rendered bodies of the public API's
listing, search, suggest, departments and product reads. Where: Django's default cache
(Redis when REDIS_URL is set, so every web process shares it). How long: the setting
`CATALOG_CACHE_SECONDS` (env var of that name, default 30; 0 turns the cache off).

Nothing is ever deleted. Every key carries the catalog's version (`changes.catalog_version`:
its last change plus a generation that each write through the services bumps after commit),
so a ProductChanged / PriceChanged moves every reader to new keys and old entries just expire.

Inside a transaction the cache is neither read nor written: the transaction may see changes
(its own, uncommitted, perhaps rolled back later) that nobody else sees.

A cache failure never fails a read: the read is computed as if nothing were cached, and this
process leaves the cache alone for a few seconds (so a dead Redis costs one failed call per
process every DOWN_PAUSE seconds, not one per request).
"""

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import connection

log = logging.getLogger(__name__)

DOWN_PAUSE = 5.0  # seconds this process skips the cache after a failure
GENERATION_KEY = "catalog:generation"
MISSING = object()

_down_until = 0.0


def seconds() -> int:
    return int(settings.CATALOG_CACHE_SECONDS)


def _backend() -> BaseCache:
    return caches["default"]


def enabled() -> bool:
    return seconds() > 0 and time.monotonic() >= _down_until


def _in_transaction() -> bool:
    """In a transaction of the code's own (a test's wrapping transaction does not count)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _failed(exc: Exception) -> None:
    global _down_until
    _down_until = time.monotonic() + DOWN_PAUSE
    log.warning("catalog cache unavailable, reading without it for %ss: %r", DOWN_PAUSE, exc)


def reset() -> None:
    """Forget a recorded failure (tests)."""
    global _down_until
    _down_until = 0.0


def key(kind: str, version: str, *parts: Any) -> str:
    """A short key for these parts (any reprs) at this catalog version."""
    digest = hashlib.blake2b(repr((version, parts)).encode(), digest_size=16).hexdigest()
    return f"catalog:{kind}:{digest}"


def get(cache_key: str) -> Any:
    """The stored value, or MISSING (also when the cache is off or failing, or in a
    transaction)."""
    if not enabled() or _in_transaction():
        return MISSING
    try:
        return _backend().get(cache_key, MISSING)
    except Exception as exc:  # any failure means "not cached"
        _failed(exc)
        return MISSING


def put(cache_key: str, value: Any) -> None:
    if not enabled() or _in_transaction():
        return
    try:
        _backend().set(cache_key, value, seconds())
    except Exception as exc:
        _failed(exc)


def remembered[T](cache_key: str, compute: Callable[[], T]) -> T:
    """The stored value, else compute()'s, stored for the next reader."""
    stored = get(cache_key)
    if stored is not MISSING:
        return cast(T, stored)
    value = compute()
    put(cache_key, value)
    return value


def generation() -> int:
    """The write generation (0 when the cache is off or failing: nothing is cached then)."""
    if not enabled():
        return 0
    try:
        backend = _backend()
        value = backend.get(GENERATION_KEY)
        if value is None:
            # Start from the clock, not 1: a generation lost to eviction never comes back.
            backend.add(GENERATION_KEY, time.time_ns(), None)
            value = backend.get(GENERATION_KEY)
        return int(value or 0)
    except Exception as exc:
        _failed(exc)
        return 0


def bump_generation() -> None:
    """Move every reader to new keys (called once a write has committed).

    Tried even while this process is skipping the cache: other processes may be using it.
    """
    try:
        backend = _backend()
        try:
            backend.incr(GENERATION_KEY)
        except ValueError:  # not there (evicted, or never read)
            backend.add(GENERATION_KEY, time.time_ns(), None)
    except Exception as exc:
        _failed(exc)
