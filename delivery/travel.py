"""Delivery's one travel-time model: how long a courier rides from one point to another.

Both halves use it: the façade for the promise and the pick deadline, transport for ETAs,
offers and trips. Distances are the kernel's (`distance_km`, the one haversine); time is the
distance at a speed (a courier's own, or the typical one when it is not known).
"""

from datetime import timedelta

from prime_now.kernel.geo import distance_km

from .models.transport import TYPICAL_SPEED_KMH

__all__ = ["TYPICAL_SPEED_KMH", "UNKNOWN_RIDE", "ride_time", "travel_time"]

# A door without coordinates: a typical ride inside a hub's area.
UNKNOWN_RIDE = timedelta(minutes=20)


def travel_time(km: float, speed_kmh: float = TYPICAL_SPEED_KMH) -> timedelta:
    """The time to ride `km` kilometres at `speed_kmh`."""
    if speed_kmh <= 0:
        raise ValueError("speed must be positive")
    return timedelta(hours=km / speed_kmh)


def ride_time(
    *,
    from_lat: float,
    from_lon: float,
    to_lat: float | None,
    to_lon: float | None,
    speed_kmh: float = TYPICAL_SPEED_KMH,
) -> timedelta:
    """The ride between two points in a straight line; UNKNOWN_RIDE when the destination has
    no coordinates."""
    if to_lat is None or to_lon is None:
        return UNKNOWN_RIDE
    return travel_time(distance_km(from_lat, from_lon, to_lat, to_lon), speed_kmh)
