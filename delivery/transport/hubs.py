"""Hub positions for distance maths, read through fulfillment's door and kept briefly."""

import time
from dataclasses import dataclass

from fulfillment.services import hub_get

_TTL_SECONDS = 60.0
_cache: dict[str, tuple[float, "HubPoint"]] = {}


@dataclass(frozen=True)
class HubPoint:
    code: str
    lat: float
    lon: float


def hub_point(code: str) -> HubPoint:
    hit = _cache.get(code)
    if hit is not None and time.monotonic() - hit[0] < _TTL_SECONDS:
        return hit[1]
    hub = hub_get(code=code)
    point = HubPoint(code=hub.code, lat=hub.lat, lon=hub.lon)
    _cache[code] = (time.monotonic(), point)
    return point
