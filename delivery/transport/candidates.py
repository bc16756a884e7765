"""Who could take a job now, best first: couriers on a block at its hub, online, with a fresh
position and room for its bags, ranked nearest to the hub first and, among those about as near,
the one offered work longest ago (fair rotation). A courier already on a trip counts only if
the job can join that trip (same hub, bags not yet out, every window still kept)."""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection

from prime_now.kernel.geo import distance_km
from prime_now.kernel.levers import lever_on

from ..levers import COURIER_BATCHING
from ..models.transport import (
    BATCHABLE_TRIP_STATUSES,
    OPEN_TRIP_STATUSES,
    Block,
    BlockClaim,
    CourierProfile,
    DeliveryJob,
    JobStatus,
    Offer,
    OfferStatus,
    Trip,
    TripStatus,
)
from ..travel import travel_time
from .batching import Stop, batch_fits
from .config import dispatch_config
from .hubs import HubPoint
from .jobs import job_stop
from .profiles import courier_speed

ROTATION_BAND_KM = 1.0  # couriers within the same band count as equally near


@dataclass(frozen=True)
class Candidate:
    courier_id: int
    distance_km: float
    joins_trip: bool


class _EligibleCourier(NamedTuple):
    """What ranking and batch checks read of a courier: plain values, no model instance."""

    id: int
    lat: float
    lon: float
    bag_capacity: int
    speed_kmh: float | None
    located_at: datetime | None
    vehicle: str
    last_offered: datetime | None
    trip_id: uuid.UUID | None  # the open trip, if any (a courier has at most one)
    trip_hub_code: str | None
    trip_status: str | None


# Written out, on transport's own tables only (whether a courier's account is active is asked
# of the user model through the ORM): built with the ORM, the same statement cost about five
# times the CPU, a third of the OrderPacked handler (figures in docs/performance.md).
_TABLES = {m: m._meta.db_table for m in (Block, BlockClaim, CourierProfile, Offer, Trip)}
_OPEN_TRIP = ", ".join(f"'{status}'" for status in OPEN_TRIP_STATUSES)  # constants, not input
_ELIGIBLE_COURIERS = f"""
    SELECT c.user_id, c.id, c.lat, c.lon, c.bag_capacity, c.speed_kmh, c.located_at, c.vehicle,
           (SELECT MAX(o.created_at) FROM {_TABLES[Offer]} o WHERE o.courier_id = c.id),
           t.id, t.hub_code, t.status
      FROM {_TABLES[CourierProfile]} c
      LEFT JOIN {_TABLES[Trip]} t
             ON t.courier_id = c.id AND t.status IN ({_OPEN_TRIP})
     WHERE c.online AND c.lat IS NOT NULL
       AND c.located_at >= %(fresh_since)s AND c.bag_capacity >= %(bags)s
       AND EXISTS (SELECT 1 FROM {_TABLES[BlockClaim]} bc
                     JOIN {_TABLES[Block]} b ON b.id = bc.block_id
                    WHERE bc.courier_id = c.id AND bc.status = %(claimed)s
                      AND b.hub_code = %(hub)s AND b.starts_at <= %(now)s AND b.ends_at > %(now)s)
       AND NOT EXISTS (SELECT 1 FROM {_TABLES[Offer]} o
                        WHERE o.courier_id = c.id AND o.status = %(pending)s AND NOT o.broadcast)
"""
_NOT_ASKED_LATELY = f"""
       AND NOT EXISTS (SELECT 1 FROM {_TABLES[Offer]} o
                        WHERE o.courier_id = c.id AND o.job_id = %(job)s
                          AND o.created_at >= %(asked_since)s)
"""


def _eligible_couriers(job: DeliveryJob, *, now: datetime, fresh: bool) -> list[_EligibleCourier]:
    """Couriers on a block at the job's hub now, online, active, with a fresh position, room for
    its bags and no directed offer out; unless `fresh`, not asked about this job lately; each
    with their open trip, if any."""
    config = dispatch_config()
    params: dict[str, Any] = {
        "fresh_since": now - timedelta(seconds=config.ping_stale_seconds),
        "bags": job.bags,
        "claimed": BlockClaim.Status.CLAIMED,
        "hub": job.hub_code,
        "now": now,
        "pending": OfferStatus.PENDING,
    }
    sql = _ELIGIBLE_COURIERS
    if not fresh:  # a job created in this transaction has asked nobody yet
        sql += _NOT_ASKED_LATELY
        params["job"] = job.pk
        params["asked_since"] = now - timedelta(seconds=config.reoffer_after_seconds)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return []
    active = set(
        get_user_model()
        .objects.filter(pk__in=[row[0] for row in rows], is_active=True)
        .values_list("pk", flat=True)
    )
    return [_EligibleCourier._make(row[1:]) for row in rows if row[0] in active]


def _ranked(
    couriers: Sequence[_EligibleCourier], *, hub: HubPoint, now: datetime
) -> list[tuple[float, _EligibleCourier]]:
    """(distance to the hub, courier), best first: by distance band, then longest since their
    last offer, then distance."""
    floor = datetime.min.replace(tzinfo=now.tzinfo)
    keyed = []
    for courier in couriers:
        km = distance_km(courier.lat, courier.lon, hub.lat, hub.lon)
        key = (int(km // ROTATION_BAND_KM), courier.last_offered or floor, km, courier.id)
        keyed.append((key, km, courier))
    keyed.sort(key=lambda item: item[0])
    return [(km, courier) for _key, km, courier in keyed]


def _trip_stops_reader(
    couriers: Sequence[_EligibleCourier], *, preload: bool
) -> Callable[[uuid.UUID], list[DeliveryJob]]:
    """How to read a trip's stops still at the hub: one query per trip when asked (most offers
    check one or two trips), or every trip's in one query up front (`preload`)."""
    stops_of = DeliveryJob.objects.filter(status=JobStatus.ASSIGNED).only(
        "pk", "trip_id", "lat", "lon", "window_start", "window_end", "bags"
    )
    if not preload:
        return lambda trip_id: list(stops_of.filter(trip_id=trip_id))
    preloaded: dict[uuid.UUID, list[DeliveryJob]] = defaultdict(list)
    for stop in stops_of.filter(trip_id__in=[c.trip_id for c in couriers if c.trip_id]):
        if stop.trip_id is not None:
            preloaded[stop.trip_id].append(stop)
    return lambda trip_id: preloaded.get(trip_id, [])


def _can_join_trip(
    courier: _EligibleCourier,
    *,
    job: DeliveryJob,
    new_stop: Stop,
    stops_of: Callable[[uuid.UUID], list[DeliveryJob]],
    hub: HubPoint,
    km: float,
    now: datetime,
) -> bool:
    """The job can ride along on the courier's open trip: same hub, bags not yet out, room in
    the bag, and every door still reached within its window."""
    if (
        courier.trip_id is None
        or courier.trip_status not in BATCHABLE_TRIP_STATUSES
        or courier.trip_hub_code != job.hub_code
    ):
        return False
    speed = courier_speed(
        reported_kmh=courier.speed_kmh,
        located_at=courier.located_at,
        vehicle=courier.vehicle,
        now=now,
    )
    depart = now + timedelta(minutes=dispatch_config().pickup_minutes)
    if courier.trip_status == TripStatus.ACCEPTED:  # still riding to the hub
        depart += travel_time(km, speed)
    return batch_fits(
        hub_lat=hub.lat,
        hub_lon=hub.lon,
        existing=[job_stop(j, hub) for j in stops_of(courier.trip_id)],
        candidate=new_stop,
        capacity=courier.bag_capacity,
        depart_at=depart,
        speed_kmh=speed,
    )


def iter_candidates(
    job: DeliveryJob, *, now: datetime, hub: HubPoint, every: bool = False, fresh: bool = False
) -> Iterator[Candidate]:
    """The candidates, lazily: the couriers are ranked first (the key does not depend on their
    trips), and a courier's trip is checked only when the ranking reaches them, so one offer
    costs one or two batch checks, not one per courier on shift. `every`: the caller wants them
    all (a broadcast), so every trip's stops are read in one query up front. `fresh`: the job
    was created in this transaction (nobody can have been asked yet)."""
    couriers = _eligible_couriers(job, now=now, fresh=fresh)
    if not couriers:
        return
    stops_of = _trip_stops_reader(couriers, preload=every)
    new_stop = job_stop(job, hub)
    batching = lever_on(COURIER_BATCHING)
    for km, courier in _ranked(couriers, hub=hub, now=now):
        joins = courier.trip_id is not None
        if joins and not batching:
            continue  # batching is shed: a courier already on a trip is not asked
        if courier.trip_id is not None and not _can_join_trip(
            courier,
            job=job,
            new_stop=new_stop,
            stops_of=stops_of,
            hub=hub,
            km=km,
            now=now,
        ):
            continue
        yield Candidate(courier_id=courier.id, distance_km=km, joins_trip=joins)
