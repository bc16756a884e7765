"""Travel times and straight-line movement over the kernel's one distance rule.

Transport's travel-time model (a courier's own speed over the great-circle distance); the
façade's promise keeps its own rough model until delivery has one travel-time module.
"""

from datetime import timedelta

from prime_now.kernel.geo import distance_km


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
