"""Great-circle distances, straight-line movement and travel times."""

import math
from datetime import timedelta

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def travel_time(km: float, speed_kmh: float) -> timedelta:
    if speed_kmh <= 0:
        raise ValueError("speed must be positive")
    return timedelta(hours=km / speed_kmh)


def move_towards(
    lat: float, lon: float, target_lat: float, target_lon: float, km: float
) -> tuple[float, float, bool]:
    """Move up to `km` along the straight line to the target. Returns (lat, lon, arrived).

    Interpolating the coordinates is exact enough over the few kilometres a courier rides.
    """
    remaining = distance_km(lat, lon, target_lat, target_lon)
    if remaining <= km or remaining == 0:
        return target_lat, target_lon, True
    fraction = km / remaining
    return lat + (target_lat - lat) * fraction, lon + (target_lon - lon) * fraction, False
