"""The stand-in provider: what the promise answers when a service behind it fails, its breaker
is open, or the precise promise is shed (lever `delivery-precise-promise`).

It remembers, in the shared cache, the hub that served each address and each hub's last good
promise. It answers, best first: that last good promise (`stale`, with its age, keeping only
windows still on sale), else the hub's standard two-hour promise from delivery's own window
table (`conservative`). Neither needs fulfillment, catalog or ordering.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache

from fulfillment import services as fulfillment

from ..models import WindowKind
from .dtos import PromiseDTO
from .windows import windows_open

logger = logging.getLogger(__name__)

# How long the hub of an address and a hub's last good promise are kept for the stand-in.
REMEMBER_SECONDS = 6 * 3600
# The conservative promise: the standard two-hour windows that end at least this far ahead
# (no picking backlog or travel time is known: as if the hub were busy).
CONSERVATIVE_LEAD = timedelta(hours=2)


def _hub_key(location_key: str) -> str:
    return f"delivery:standin:hub:{location_key}"


def _promise_key(hub_code: str) -> str:
    return f"delivery:standin:promise:{hub_code}"


def _quietly(what: str, action: Callable[[], Any]) -> Any:  # the stand-in never fails
    try:
        return action()
    except Exception as exc:
        logger.warning("stand-in: could not %s (%r)", what, exc)
        return None


def remember_hub(location_key: str, hub: fulfillment.HubDTO) -> None:
    _quietly("remember a hub", lambda: cache.set(_hub_key(location_key), hub, REMEMBER_SECONDS))


def last_hub(location_key: str) -> fulfillment.HubDTO | None:
    """The hub that last served this address (None when unknown)."""
    hub: fulfillment.HubDTO | None = _quietly(
        "read a hub", lambda: cache.get(_hub_key(location_key))
    )
    return hub


def remember_promise(promise: PromiseDTO, computed_at: datetime) -> None:
    """Keep a good promise as its hub's stand-in (the basket's stock is not kept)."""
    if not promise.available or promise.hub_code is None:
        return
    value = (replace(promise, unavailable_skus=()), computed_at)
    _quietly(
        "remember a promise",
        lambda: cache.set(_promise_key(promise.hub_code or ""), value, REMEMBER_SECONDS),
    )


def stand_in(hub: fulfillment.HubDTO, now: datetime) -> PromiseDTO | None:
    """The hub's last good promise, else its conservative promise (None: nothing to offer)."""
    return last_good(hub.code, now) or conservative(hub, now)


def last_good(hub_code: str, now: datetime) -> PromiseDTO | None:
    """The hub's last good promise, windows still on sale only, marked stale with its age."""
    found = _quietly("read a promise", lambda: cache.get(_promise_key(hub_code)))
    if found is None:
        return None
    promise: PromiseDTO
    computed_at: datetime
    promise, computed_at = found
    windows = tuple(w for w in promise.windows if w.cutoff_at > now)
    if not windows:
        return None
    earliest = max(promise.earliest_delivery or now, windows[0].start)
    return replace(
        promise,
        windows=windows,
        earliest_delivery=earliest,
        message=f"Delivery from {windows[0].start:%H:%M} (estimated: live times are "
        "unavailable right now).",
        stale=True,
        stale_seconds=max(0, int((now - computed_at).total_seconds())),
    )


def conservative(hub: fulfillment.HubDTO, now: datetime) -> PromiseDTO | None:
    """The hub's standard promise: its two-hour windows ending CONSERVATIVE_LEAD ahead or later
    (delivery's own table only). None when even that cannot be read."""
    earliest = now + CONSERVATIVE_LEAD
    try:
        windows = tuple(
            w
            for w in windows_open(hub_code=hub.code, now=now, ends_after=earliest)
            if w.kind == WindowKind.TWO_HOUR
        )
    except Exception as exc:
        logger.warning("stand-in: windows unreadable for hub %s (%r)", hub.code, exc)
        return None
    if windows:
        message = f"Delivery from {windows[0].start:%H:%M} (standard two-hour delivery)."
    else:
        message = "No standard delivery windows are left for the next two days at this address."
    return PromiseDTO(
        available=bool(windows),
        hub_code=hub.code,
        hub_name=hub.name,
        windows=windows,
        earliest_delivery=max(earliest, windows[0].start) if windows else None,
        unavailable_skus=(),
        message=message,
        conservative=True,
    )
