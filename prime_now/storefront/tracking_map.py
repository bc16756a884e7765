"""The tracking page's map: hub, courier and address drawn as SVG (no tiles, no requests).

Points are projected onto a small square (equirectangular, longitude scaled by the cosine of
the latitude, so distances look right at city scale), with a margin so markers and labels stay
inside. `tracking_map` is the one place the page asks, so a lever can wrap it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from prime_now.kernel.geo import distance_km

SIZE = 300  # the SVG's viewBox is SIZE x SIZE
MARGIN = 40
MIN_SPAN_KM = 0.5  # a courier at the door still gets a map of a few streets


@dataclass(frozen=True)
class Marker:
    kind: str  # hub | home | courier
    label: str
    x: float
    y: float


@dataclass(frozen=True)
class MapView:
    size: int
    markers: tuple[Marker, ...]
    route: tuple[tuple[float, float], ...]  # hub -> courier -> home, as drawn
    description: str  # what the map shows, in words (its text alternative)

    def marker(self, kind: str) -> Marker | None:
        return next((m for m in self.markers if m.kind == kind), None)


Point = tuple[float, float]


def tracking_map(
    *,
    hub: Point | None,
    home: Point | None,
    courier: Point | None,
    courier_name: str | None = None,
) -> MapView | None:
    """A map of the points known (None when none is)."""
    named = [
        (kind, label, point)
        for kind, label, point in (
            ("hub", "Hub", hub),
            ("home", "You", home),
            ("courier", courier_name or "Courier", courier),
        )
        if point is not None
    ]
    if not named:
        return None
    lat0 = sum(p[0] for _, _, p in named) / len(named)
    scale_lon = math.cos(math.radians(lat0))
    xs = [p[1] * scale_lon for _, _, p in named]
    ys = [p[0] for _, _, p in named]
    km_per_degree = 111.32
    span = max(max(xs) - min(xs), max(ys) - min(ys), MIN_SPAN_KM / km_per_degree)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    room = SIZE - 2 * MARGIN

    def project(point: Point) -> tuple[float, float]:
        x = SIZE / 2 + (point[1] * scale_lon - cx) / span * room
        y = SIZE / 2 - (point[0] - cy) / span * room
        return round(x, 1), round(y, 1)

    markers = tuple(Marker(kind, label, *project(point)) for kind, label, point in named)
    route = tuple(project(p) for p in (hub, courier, home) if p is not None)
    return MapView(SIZE, markers, route, _describe(hub, home, courier, courier_name))


def _describe(hub: Point | None, home: Point | None, courier: Point | None, name: str | None):
    who = name or "The courier"
    if courier and home:
        return f"{who} is {distance_km(*courier, *home):.1f} km from your address."
    if hub and home:
        return f"Your order's hub is {distance_km(*hub, *home):.1f} km from your address."
    if courier:
        return f"{who} and the hub your order comes from."
    return "The hub your order comes from."
