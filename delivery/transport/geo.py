"""Straight-line movement over the kernel's one distance rule (the simulator's couriers).

Travel times are delivery's one model, in delivery/travel.py.
"""

from prime_now.kernel.geo import distance_km


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
