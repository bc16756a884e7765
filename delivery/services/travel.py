"""Rough travel and picking lead times used by the promise and for pick-job deadlines."""

import math
from datetime import timedelta

AVERAGE_SPEED_KMH = 20.0  # a courier in city traffic, bike or car
HANDOFF = timedelta(minutes=5)  # parking, stairs, the door
DEFAULT_TRAVEL = timedelta(minutes=20)  # no coordinates: a typical trip inside a hub's area
MIN_TRAVEL = timedelta(minutes=10)
PACK_TIME = timedelta(minutes=5)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def travel_time(
    *, hub_lat: float, hub_lon: float, lat: float | None, lon: float | None
) -> timedelta:
    if lat is None or lon is None:
        return DEFAULT_TRAVEL
    km = distance_km(hub_lat, hub_lon, lat, lon)
    return max(timedelta(hours=km / AVERAGE_SPEED_KMH) + HANDOFF, MIN_TRAVEL)


def picking_lead(*, backlog: int, picking_capacity_per_hour: int) -> timedelta:
    """Time until a new order would be picked and packed, given the jobs queued before it."""
    per_hour = max(picking_capacity_per_hour, 1)
    return timedelta(hours=(backlog + 1) / per_hour) + PACK_TIME
