"""Batching and routes: which jobs can ride together, in what order, arriving when.

A route starts at the hub and visits the drop-offs nearest-first (greedy nearest neighbour:
for the handful of stops one bag holds, it is within a few percent of the best order).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from prime_now.kernel.geo import distance_km

from ..travel import travel_time
from .config import dispatch_config


@dataclass(frozen=True)
class Stop:
    key: str
    lat: float
    lon: float
    window_start: datetime
    window_end: datetime
    bags: int


def order_stops(start_lat: float, start_lon: float, stops: Sequence[Stop]) -> list[Stop]:
    """Nearest-first from the start, each next stop nearest to the previous one."""
    remaining = list(stops)
    ordered: list[Stop] = []
    lat, lon = start_lat, start_lon
    while remaining:
        nearest = min(remaining, key=lambda s: (distance_km(lat, lon, s.lat, s.lon), s.key))
        remaining.remove(nearest)
        ordered.append(nearest)
        lat, lon = nearest.lat, nearest.lon
    return ordered


def route_arrivals(
    start_lat: float,
    start_lon: float,
    depart_at: datetime,
    stops: Sequence[Stop],
    speed_kmh: float,
) -> list[datetime]:
    """When the courier reaches each stop, in the given order, handing over at each door."""
    handover = timedelta(minutes=dispatch_config().handover_minutes)
    arrivals: list[datetime] = []
    at, lat, lon = depart_at, start_lat, start_lon
    for stop in stops:
        at = at + travel_time(distance_km(lat, lon, stop.lat, stop.lon), speed_kmh)
        arrivals.append(at)
        at += handover
        lat, lon = stop.lat, stop.lon
    return arrivals


def batch_fits(
    *,
    hub_lat: float,
    hub_lon: float,
    existing: Sequence[Stop],
    candidate: Stop,
    capacity: int,
    depart_at: datetime,
    speed_kmh: float,
) -> bool:
    """Can `candidate` join a trip already holding `existing` stops?

    It must fit in the bag, its window must overlap every other stop's window, its drop-off
    must be near one of theirs, and the combined route must still reach every door before its
    window ends.
    """
    if not existing:
        return candidate.bags <= capacity
    if sum(s.bags for s in existing) + candidate.bags > capacity:
        return False
    for stop in existing:
        if not (
            candidate.window_start < stop.window_end and stop.window_start < candidate.window_end
        ):
            return False
    limit = dispatch_config().batch_max_detour_km
    if min(distance_km(s.lat, s.lon, candidate.lat, candidate.lon) for s in existing) > limit:
        return False
    route = order_stops(hub_lat, hub_lon, [*existing, candidate])
    arrivals = route_arrivals(hub_lat, hub_lon, depart_at, route, speed_kmh)
    return all(arrival <= stop.window_end for stop, arrival in zip(route, arrivals, strict=True))
