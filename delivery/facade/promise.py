"""The promise: what can reach this address, and when."""

import hashlib
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache, caches
from django.utils import timezone

from catalog import services as catalog
from fulfillment import services as fulfillment
from ordering.services import BASKET_LIMITS
from prime_now.kernel.breakers import guarded
from prime_now.kernel.deadline import within
from prime_now.kernel.errors import ValidationError
from prime_now.kernel.levers import lever_on

from .. import levers
from ..travel import ride_time
from . import standin
from .dtos import PromiseDTO
from .promise_cache import PROMISE_SECONDS, hub_version
from .windows import windows_open

logger = logging.getLogger(__name__)

# The precise promise's own breaker: its time budget running out counts as a failure, so after
# a few overruns every process answers from the stand-in at once instead of waiting each time.
PRECISE = "promise"
UNAVAILABLE_NOW = "Delivery windows are unavailable right now. Please try again in a moment."
NO_WINDOWS = "No delivery windows are left for the next two days at this address."
# The promise plans with slack on top of the ride (delivery/travel.py): time at the door, and
# never less than MIN_DELIVERY from packed to delivered; packing after the pick.
HANDOFF = timedelta(minutes=5)
MIN_DELIVERY = timedelta(minutes=10)
PACK_TIME = timedelta(minutes=5)


def delivery_lead(*, hub: fulfillment.HubDTO, lat: float | None, lon: float | None) -> timedelta:
    """From packed at the hub to delivered at this door, as the promise plans it."""
    ride = ride_time(from_lat=hub.lat, from_lon=hub.lon, to_lat=lat, to_lon=lon)
    return max(ride + HANDOFF, MIN_DELIVERY)


def picking_lead(*, backlog: int, picking_capacity_per_hour: int) -> timedelta:
    """Time until a new order would be picked and packed, given the jobs queued before it."""
    per_hour = max(picking_capacity_per_hour, 1)
    return timedelta(hours=(backlog + 1) / per_hour) + PACK_TIME


def _unavailable(message: str, hub: fulfillment.HubDTO | None = None) -> PromiseDTO:
    return PromiseDTO(
        available=False,
        hub_code=hub.code if hub else None,
        hub_name=hub.name if hub else None,
        windows=(),
        earliest_delivery=None,
        unavailable_skus=(),
        message=message,
    )


def _location_key(postcode: str | None, lat: float | None, lon: float | None) -> str:
    if postcode:
        return f"delivery:hubfor:pc:{postcode.strip().upper().replace(' ', '')}"
    return f"delivery:hubfor:ll:{lat:.4f}:{lon:.4f}"


def hub_for_address(
    *, postcode: str | None, lat: float | None, lon: float | None
) -> fulfillment.HubDTO:
    """fulfillment.hub_for_location, cached for a few seconds in this process (checkout and
    promise share it)."""
    key = _location_key(postcode, lat, lon)
    hub: fulfillment.HubDTO | None = caches["local"].get(key)
    if hub is None:
        hub = fulfillment.hub_for_location(postcode=postcode or None, lat=lat, lon=lon)
        caches["local"].set(key, hub, PROMISE_SECONDS)
        standin.remember_hub(key, hub)
    return hub


def _unavailable_skus(hub_code: str, skus: Sequence[str]) -> tuple[str, ...]:
    if not skus:
        return ()
    products = catalog.products_by_skus(skus=skus)
    sellable = {sku: p.id for sku, p in products.items() if p.active}
    stock = fulfillment.stock_available(hub_code=hub_code, product_ids=sellable.values())
    return tuple(sku for sku in skus if sku not in sellable or stock.get(sellable[sku], 0) <= 0)


def _compute(
    hub: fulfillment.HubDTO,
    lat: float | None,
    lon: float | None,
    skus: tuple[str, ...],
    now: datetime,
) -> PromiseDTO:
    backlog = fulfillment.hub_backlog(hub_code=hub.code)
    earliest = (
        now
        + picking_lead(backlog=backlog, picking_capacity_per_hour=hub.picking_capacity_per_hour)
        + delivery_lead(hub=hub, lat=lat, lon=lon)
    )
    windows = windows_open(hub_code=hub.code, now=now, ends_after=earliest)
    missing = _unavailable_skus(hub.code, skus)
    if windows:
        message = f"Delivery from {windows[0].start:%H:%M} (earliest possible {earliest:%H:%M})."
    else:
        message = NO_WINDOWS
    return PromiseDTO(
        available=bool(windows),
        hub_code=hub.code,
        hub_name=hub.name,
        windows=windows,
        earliest_delivery=max(earliest, windows[0].start) if windows else None,
        unavailable_skus=missing,
        message=message,
    )


def promise_for(
    *,
    postcode: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    basket_skus: Sequence[str] = (),
) -> PromiseDTO:
    """The serving hub, its open windows (earliest first), the earliest delivery time given the
    hub's picking backlog, and the basket lines the hub cannot supply. Cached a few seconds.
    When a service behind it fails, answers from the stand-in provider (standin.py: the hub's
    last good promise, stale, else its conservative two-hour promise), and says "unavailable
    right now" only when there is nothing to stand in with; it never raises for a failure."""
    postcode = (postcode or "").strip() or None
    if postcode is None and (lat is None or lon is None):
        raise ValidationError(
            "Give a postcode, or both lat and lon.", fields={"postcode": "required"}
        )
    skus = tuple(dict.fromkeys(s.strip() for s in basket_skus if s and s.strip()))
    most = BASKET_LIMITS.max_lines  # ordering owns the basket limits
    if len(skus) > most:
        raise ValidationError(f"At most {most} basket items.", fields={"basket": "too many"})
    now = timezone.now()
    # The precise answer gets a time budget; past it (a slow service behind the promise, or
    # a breaker open), the stand-in answers. A computation cut off still fills the caches.
    deadline = time.monotonic() + settings.DELIVERY_PROMISE_BUDGET_MS / 1000
    try:
        # Known in this process (most requests): no thread, no breaker.
        hub = caches["local"].get(_location_key(postcode, lat, lon)) or guarded(
            PRECISE, within, deadline - time.monotonic(), hub_for_address,
            postcode=postcode, lat=lat, lon=lon,
        )  # fmt: skip
    except fulfillment.AddressNotServedError as exc:
        return _unavailable(exc.message)
    except Exception as exc:
        logger.warning("promise: hub lookup failed (%r)", exc)
        known = standin.last_hub(_location_key(postcode, lat, lon))
        if known is None:
            return _unavailable(UNAVAILABLE_NOW)
        return standin.stand_in(known, now) or _unavailable(UNAVAILABLE_NOW, known)
    if not lever_on(levers.PRECISE_PROMISE):
        return standin.conservative(hub, now) or _unavailable(UNAVAILABLE_NOW, hub)
    basket = hashlib.sha1("\n".join(sorted(skus)).encode()).hexdigest()[:16]
    loc = "" if lat is None or lon is None else f"{lat:.3f},{lon:.3f}"
    key = f"delivery:promise:{hub.code}:{hub_version(hub.code)}:{loc}:{basket}"
    cached: PromiseDTO | None = cache.get(key)
    if cached is not None:
        return cached
    try:
        return guarded(
            PRECISE, within, deadline - time.monotonic(), _compute_and_keep,
            key, hub, lat, lon, skus, now,
        )  # fmt: skip
    except Exception as exc:
        logger.warning("promise: the precise promise failed for hub %s (%r)", hub.code, exc)
        return standin.stand_in(hub, now) or _unavailable(UNAVAILABLE_NOW, hub)


def _compute_and_keep(
    key: str,
    hub: fulfillment.HubDTO,
    lat: float | None,
    lon: float | None,
    skus: tuple[str, ...],
    now: datetime,
) -> PromiseDTO:
    promise = _compute(hub, lat, lon, skus, now)
    cache.set(key, promise, PROMISE_SECONDS)
    standin.remember_promise(promise, now)
    return promise
