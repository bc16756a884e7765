"""Hubs: which hub serves an address, now or at a given time."""

import zoneinfo
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from prime_now.kernel.geo import distance_km

from ..models import Hub, OpeningHours, PickJob, PickJobStatus, PostcodeCentroid
from .dto import (
    AddressNotServedError,
    HubClosedError,
    HubDTO,
    HubInactiveError,
    HubNotFoundError,
    OpeningHoursDTO,
)


def hub_row(code: str, *, for_orders: bool = False) -> Hub:
    """The hub's row; for_orders: refuse an inactive hub."""
    hub = Hub.objects.filter(code=code).first()
    if hub is None:
        raise HubNotFoundError(fields={"hub_code": code})
    if for_orders and not hub.active:
        raise HubInactiveError(fields={"hub_code": code})
    return hub


def normalize_postcode(postcode: str) -> str:
    return "".join(postcode.split()).upper()


def to_dto(hub: Hub) -> HubDTO:
    return HubDTO(
        code=hub.code,
        name=hub.name,
        address=hub.address,
        postcode=hub.postcode,
        lat=hub.lat,
        lon=hub.lon,
        timezone=hub.timezone,
        radius_km=hub.radius_km,
        postcodes=tuple(str(p) for p in hub.postcodes or ()),
        picking_capacity_per_hour=hub.picking_capacity_per_hour,
        active=hub.active,
        opening_hours=tuple(
            OpeningHoursDTO(weekday=h.weekday, opens=h.opens, closes=h.closes)
            for h in sorted(hub.opening_hours.all(), key=lambda h: h.weekday)
        ),
    )


def is_open(hours: Sequence[OpeningHours], tz_name: str, at: datetime) -> bool:
    """Open at `at`? A shift that runs past midnight belongs to the day it starts."""
    local = at.astimezone(zoneinfo.ZoneInfo(tz_name))
    by_day = {h.weekday: h for h in hours}
    today = by_day.get(local.weekday())
    now = local.time()
    if today is not None:
        if today.opens == today.closes:
            return True
        if today.opens < today.closes and today.opens <= now < today.closes:
            return True
        if today.closes < today.opens and now >= today.opens:
            return True
    yesterday = by_day.get((local.weekday() - 1) % 7)
    return bool(
        yesterday is not None and yesterday.closes < yesterday.opens and now < yesterday.closes
    )


def next_opening(hours: Sequence[OpeningHours], tz_name: str, after: datetime) -> datetime | None:
    """The first moment at or after `after` when the hub is open (to the minute), within a week."""
    if not hours:
        return None
    if is_open(hours, tz_name, after):
        return after
    tz = zoneinfo.ZoneInfo(tz_name)
    local = after.astimezone(tz)
    candidates = []
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        for h in hours:
            if h.weekday == day.weekday():
                start = datetime.combine(day, h.opens, tzinfo=tz)
                if start > local:
                    candidates.append(start)
    return min(candidates) if candidates else None


def _serves(hub: Hub, lat: float | None, lon: float | None, postcode: str | None) -> float | None:
    """Distance-like rank if the hub serves the address, else None."""
    distance = None
    if lat is not None and lon is not None:
        distance = distance_km(lat, lon, hub.lat, hub.lon)
        if hub.radius_km and distance <= hub.radius_km:
            return distance
    if postcode and normalize_postcode(postcode) in {
        normalize_postcode(str(p)) for p in hub.postcodes or ()
    }:
        return distance if distance is not None else 0.0
    return None


def hub_for_location(
    *,
    lat: float | None = None,
    lon: float | None = None,
    postcode: str | None = None,
    at: datetime | None = None,
) -> HubDTO:
    """The nearest active hub that serves the address and is open at `at` (default: now).

    Raises AddressNotServedError; HubClosedError (one of those) when hubs serve the address
    but all are closed: {"reason": "closed", "next_open_at": ISO datetime}.
    """
    _check_address(lat, lon, postcode)
    at = at or timezone.now()
    serving = _serving_hubs(lat, lon, postcode)
    if not serving:
        raise AddressNotServedError(fields={"reason": "not_served"})
    for hub in serving:
        if is_open(list(hub.opening_hours.all()), hub.timezone, at):
            return to_dto(hub)
    openings = [
        opening
        for hub in serving
        if (opening := next_opening(list(hub.opening_hours.all()), hub.timezone, at))
    ]
    next_open = min(openings) if openings else None
    raise HubClosedError(
        fields={
            "reason": "closed",
            "next_open_at": next_open.isoformat() if next_open else None,
        },
    )


def _check_address(lat: float | None, lon: float | None, postcode: str | None) -> None:
    if (lat is None) != (lon is None):
        raise AddressNotServedError(
            "Give both latitude and longitude.", fields={"lat": "required with lon"}
        )
    if lat is None and not postcode:
        raise AddressNotServedError(
            "Give a postcode or a location.", fields={"postcode": "required"}
        )
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise AddressNotServedError("That location is not on the map.", fields={"lat": "range"})


def _serving_hubs(lat: float | None, lon: float | None, postcode: str | None) -> list[Hub]:
    """Active hubs that serve the address, nearest first; without coordinates, the hub listing
    fewer postcodes is the more local one (a city-wide hub lists them all and takes over when
    the local hub is closed)."""
    serving: list[tuple[float, int, str, Hub]] = []
    for hub in Hub.objects.filter(active=True).prefetch_related("opening_hours"):
        rank = _serves(hub, lat, lon, postcode)
        if rank is not None:
            serving.append((rank, len(hub.postcodes or ()), hub.code, hub))
    serving.sort(key=lambda item: item[:3])
    return [hub for *_, hub in serving]


def postcode_centroid(*, postcode: str) -> tuple[float, float] | None:
    """Where a postcode is, as far as we know without a geocoder: its centre from the postcode
    table (PostcodeCentroid), else the centre of the active hubs that list it (or are in it).
    None for a postcode no one knows."""
    wanted = normalize_postcode(postcode)
    row = PostcodeCentroid.objects.filter(postcode=wanted).values_list("lat", "lon").first()
    if wanted and row is not None:
        return (float(row[0]), float(row[1]))
    points = [
        (hub.lat, hub.lon)
        for hub in Hub.objects.filter(active=True).only("lat", "lon", "postcode", "postcodes")
        if wanted == normalize_postcode(hub.postcode)
        or wanted in {normalize_postcode(str(p)) for p in hub.postcodes or ()}
    ]
    if not wanted or not points:
        return None
    return (
        round(sum(lat for lat, _ in points) / len(points), 6),
        round(sum(lon for _, lon in points) / len(points), 6),
    )


def hub_get(*, code: str) -> HubDTO:
    """The hub with this code (active or not); raises HubNotFoundError."""
    hub = Hub.objects.prefetch_related("opening_hours").filter(code=code).first()
    if hub is None:
        raise HubNotFoundError(fields={"hub_code": code})
    return to_dto(hub)


def hubs_active() -> tuple[HubDTO, ...]:
    """Every hub taking orders."""
    return tuple(
        to_dto(hub) for hub in Hub.objects.filter(active=True).prefetch_related("opening_hours")
    )


def hub_backlog(*, hub_code: str) -> int:
    """Pick jobs not yet packed (pending or being picked)."""
    if not Hub.objects.filter(code=hub_code).exists():
        raise HubNotFoundError(fields={"hub_code": hub_code})
    return PickJob.objects.filter(
        hub__code=hub_code, status__in=[PickJobStatus.PENDING, PickJobStatus.PICKING]
    ).count()
