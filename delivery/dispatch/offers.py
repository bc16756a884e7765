"""Offering jobs to couriers: candidates, one offer at a time, accept, decline, expiry.

Expiry is a timestamp in the database (`Offer.expires_at`), moved on by the beat sweeper;
no Celery countdowns. Accepting is a conditional update on the offer (still pending, not
expired) and one on the job (still without a courier): whatever the interleaving, one courier
wins, and the partial unique constraint on accepted offers makes a second winner impossible.
"""

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple, Protocol

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..models.dispatch import (
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
    vehicle_speed_kmh,
)
from .batching import batch_fits
from .config import dispatch_config
from .couriers import courier_for_user
from .dto import OfferDTO
from .errors import (
    JobTakenError,
    NoCapacityError,
    OfferAlreadyAnsweredError,
    OfferExpiredError,
    OfferNotFoundError,
)
from .geo import distance_km, travel_time
from .hubs import HubPoint, hub_point
from .jobs import estimated_unassigned_arrival, job_flag, job_stop
from .metrics import offers_answered

logger = logging.getLogger(__name__)

ROTATION_BAND_KM = 1.0  # couriers within the same band count as equally near


@dataclass(frozen=True)
class Candidate:
    courier_id: int
    distance_km: float
    joins_trip: bool


class _Moving(Protocol):
    speed_kmh: float | None
    located_at: datetime | None

    @property
    def default_speed_kmh(self) -> float: ...


def courier_speed(courier: _Moving, *, now: datetime) -> float:
    """The reported speed while it is recent and plausible, else the vehicle's usual speed."""
    if (
        courier.speed_kmh is not None
        and courier.speed_kmh >= 3
        and courier.located_at is not None
        and now - courier.located_at <= timedelta(seconds=dispatch_config().ping_stale_seconds)
    ):
        return courier.speed_kmh
    return courier.default_speed_kmh


class _RankedCourier(NamedTuple):
    """What ranking and batch checks read of a courier: plain values, no model instance."""

    id: int
    lat: float
    lon: float
    bag_capacity: int
    speed_kmh: float | None
    located_at: datetime | None
    vehicle: str
    last_offered: datetime | None
    trip_id: int | None  # the open trip, if any (a courier has at most one)
    trip_hub_code: str | None
    trip_status: str | None

    @property
    def default_speed_kmh(self) -> float:
        return vehicle_speed_kmh(self.vehicle)


_TABLES = {m: m._meta.db_table for m in (Block, BlockClaim, CourierProfile, Offer, Trip)}
_OPEN_TRIP = ", ".join(f"'{status}'" for status in OPEN_TRIP_STATUSES)  # constants, not input
_ELIGIBLE_COURIERS = f"""
    SELECT c.id, c.lat, c.lon, c.bag_capacity, c.speed_kmh, c.located_at, c.vehicle,
           (SELECT MAX(o.created_at) FROM {_TABLES[Offer]} o WHERE o.courier_id = c.id),
           t.id, t.hub_code, t.status
      FROM {_TABLES[CourierProfile]} c
      JOIN {get_user_model()._meta.db_table} u ON u.id = c.user_id
      LEFT JOIN {_TABLES[Trip]} t
             ON t.courier_id = c.id AND t.status IN ({_OPEN_TRIP})
     WHERE c.online = %(yes)s AND u.is_active = %(yes)s AND c.lat IS NOT NULL
       AND c.located_at >= %(fresh_since)s AND c.bag_capacity >= %(bags)s
       AND EXISTS (SELECT 1 FROM {_TABLES[BlockClaim]} bc
                     JOIN {_TABLES[Block]} b ON b.id = bc.block_id
                    WHERE bc.courier_id = c.id AND bc.status = %(claimed)s
                      AND b.hub_code = %(hub)s AND b.starts_at <= %(now)s AND b.ends_at > %(now)s)
       AND NOT EXISTS (SELECT 1 FROM {_TABLES[Offer]} o
                        WHERE o.courier_id = c.id AND o.status = %(pending)s
                          AND o.broadcast = %(no)s)
"""
_NOT_ASKED_LATELY = f"""
       AND NOT EXISTS (SELECT 1 FROM {_TABLES[Offer]} o
                        WHERE o.courier_id = c.id AND o.job_id = %(job)s
                          AND o.created_at >= %(asked_since)s)
"""


def _eligible_couriers(
    job: DeliveryJob, *, now: datetime, fresh: bool = False
) -> list[_RankedCourier]:
    """Couriers on a block at the job's hub now, online, with a fresh position, room for its
    bags and no directed offer out; unless `fresh`, not asked about this job lately; each with
    their open trip, if any. One statement written out: built with the ORM (three subqueries,
    and a second query for the trips) it cost more CPU than the rest of the offer."""
    config = dispatch_config()
    ops = connection.ops
    params = {
        "yes": True,
        "no": False,
        "fresh_since": ops.adapt_datetimefield_value(
            now - timedelta(seconds=config.ping_stale_seconds)
        ),
        "bags": job.bags,
        "claimed": BlockClaim.Status.CLAIMED,
        "hub": job.hub_code,
        "now": ops.adapt_datetimefield_value(now),
        "pending": OfferStatus.PENDING,
    }
    sql = _ELIGIBLE_COURIERS
    if not fresh:  # a job created in this transaction has asked nobody yet
        sql += _NOT_ASKED_LATELY
        params["job"] = DeliveryJob._meta.pk.get_db_prep_value(job.pk, connection)
        params["asked_since"] = ops.adapt_datetimefield_value(
            now - timedelta(seconds=config.reoffer_after_seconds)
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":  # it hands datetimes back as text or naive
        as_aware = partial(ops.convert_datetimefield_value, expression=None, connection=None)
        rows = [(*row[:5], as_aware(row[5]), row[6], as_aware(row[7]), *row[8:]) for row in rows]
    return [_RankedCourier(*row) for row in rows]


def candidates_for(job: DeliveryJob, *, now: datetime, hub: HubPoint) -> list[Candidate]:
    """Couriers who could take this job now, best first: nearest to the hub, and among those
    about as near, the one offered work longest ago (fair rotation)."""
    return list(iter_candidates(job, now=now, hub=hub, every=True))


def iter_candidates(
    job: DeliveryJob, *, now: datetime, hub: HubPoint, every: bool = False, fresh: bool = False
) -> Iterator[Candidate]:
    """`candidates_for`, lazily: the couriers are ranked first (the key does not depend on
    their trips), and a courier's trip is checked only when the ranking reaches them, so one
    offer costs one or two batch checks, not one per courier on shift. `every`: the caller
    wants them all (a broadcast), so every trip's stops are read in one query up front.
    `fresh`: the job was created in this transaction (nobody can have been asked yet)."""
    couriers = _eligible_couriers(job, now=now, fresh=fresh)
    if not couriers:
        return
    config = dispatch_config()
    floor = datetime.min.replace(tzinfo=now.tzinfo)
    ranked = []
    for courier in couriers:
        km = distance_km(courier.lat, courier.lon, hub.lat, hub.lon)
        key = (int(km // ROTATION_BAND_KM), courier.last_offered or floor, km, courier.id)
        ranked.append((key, km, courier))
    ranked.sort(key=lambda item: item[0])
    stops_of = DeliveryJob.objects.filter(status=JobStatus.ASSIGNED).only(
        "pk", "trip_id", "lat", "lon", "window_start", "window_end", "bags"
    )
    preloaded: dict[int, list[DeliveryJob]] | None = None
    if every:
        preloaded = {}
        for stop in stops_of.filter(trip_id__in=[c.trip_id for c in couriers if c.trip_id]):
            preloaded.setdefault(stop.trip_id, []).append(stop)
    new_stop = job_stop(job, hub)
    for _key, km, courier in ranked:
        joins = False
        if courier.trip_id is not None:
            if (
                courier.trip_status not in BATCHABLE_TRIP_STATUSES
                or courier.trip_hub_code != job.hub_code
            ):
                continue
            live = (
                preloaded.get(courier.trip_id, [])
                if preloaded is not None
                else stops_of.filter(trip_id=courier.trip_id)
            )
            speed = courier_speed(courier, now=now)
            depart = now + timedelta(minutes=config.pickup_minutes)
            if courier.trip_status == TripStatus.ACCEPTED:
                depart += travel_time(km, speed)
            if not batch_fits(
                hub_lat=hub.lat,
                hub_lon=hub.lon,
                existing=[job_stop(j, hub) for j in live],
                candidate=new_stop,
                capacity=courier.bag_capacity,
                depart_at=depart,
                speed_kmh=speed,
            ):
                continue
            joins = True
        yield Candidate(courier_id=courier.id, distance_km=km, joins_trip=joins)


def job_offer_next(
    *,
    job_id: str,
    now: datetime | None = None,
    fresh: bool = False,
    job: DeliveryJob | None = None,
) -> str:
    """Offer a waiting job to the next candidate (or, once flagged, to every candidate).

    Idempotent: while an offer is out, or once the job has a courier, it does nothing.
    Returns what happened: "offered", "broadcast", "waiting", "no_candidate" or "done".
    `fresh`: the caller created the job in this same transaction, so it has no offers yet;
    it may then pass the row it inserted as `job` (held by that insert until commit), which
    saves reading and locking it again. Inside a caller's transaction it joins it (no
    savepoint of its own: an error here aborts the caller's work too, as the handler wants).
    """
    config = dispatch_config()
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        if not (fresh and job is not None and str(job.pk) == str(job_id)):
            job = DeliveryJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in (JobStatus.PENDING, JobStatus.OFFERED):
            return "done"
        if not fresh and job.offers.filter(status=OfferStatus.PENDING).exists():
            return "waiting"
        hub = hub_point(job.hub_code)
        job.last_offer_attempt_at = now
        job.misses = (
            0
            if fresh
            else job.offers.filter(
                broadcast=False, status__in=[OfferStatus.DECLINED, OfferStatus.EXPIRED]
            ).count()
        )
        if not job.at_risk and estimated_unassigned_arrival(job, now=now) > job.window_end:
            job.at_risk = True
            job_flag(job, reason="window_at_risk", now=now)
        if job.misses >= config.max_misses and not job.broadcast:
            job.broadcast = True
            job_flag(job, reason="no_taker", now=now)
        candidates = iter_candidates(job, now=now, hub=hub, every=job.broadcast, fresh=fresh)
        expires_at = now + timedelta(seconds=config.offer_seconds)
        offered: list[int] = []
        if job.broadcast:
            candidates = list(candidates)
            Offer.objects.bulk_create(
                [
                    Offer(
                        job=job,
                        courier_id=c.courier_id,
                        broadcast=True,
                        distance_km=c.distance_km,
                        created_at=now,
                        expires_at=expires_at,
                    )
                    for c in candidates
                ]
            )
            offered = [c.courier_id for c in candidates]
        else:
            for candidate in candidates:
                # Another job may have just asked this courier: then try the next one.
                if _offer_insert(job, candidate, now=now, expires_at=expires_at):
                    offered = [candidate.courier_id]
                    break
        job.status = JobStatus.OFFERED if offered else JobStatus.PENDING
        job.save(
            update_fields=[
                "status",
                "misses",
                "last_offer_attempt_at",
                "at_risk",
                "broadcast",
                "flagged_at",
                "flag_reason",
                "updated_at",
            ]
        )
    if not offered:
        return "no_candidate"
    return "broadcast" if job.broadcast else "offered"


_OFFER_INSERT = f"""
    INSERT INTO {Offer._meta.db_table}
           (id, job_id, courier_id, status, broadcast, distance_km, created_at, expires_at,
            responded_at)
    VALUES (%s, %s, %s, %s, false, %s, %s, %s, NULL)
    ON CONFLICT DO NOTHING
    RETURNING id
"""


def _offer_insert(
    job: DeliveryJob, candidate: Candidate, *, now: datetime, expires_at: datetime
) -> bool:
    """One directed offer, or False when a unique rule refused it (the courier or the job
    already has a pending directed offer). On PostgreSQL one `ON CONFLICT DO NOTHING` insert,
    no savepoint; elsewhere a savepoint around the ORM insert."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _OFFER_INSERT,
                [
                    uuid.uuid4(),
                    job.pk,
                    candidate.courier_id,
                    OfferStatus.PENDING,
                    candidate.distance_km,
                    now,
                    expires_at,
                ],
            )
            return cursor.fetchone() is not None
    try:
        with transaction.atomic():
            Offer.objects.create(
                job=job,
                courier_id=candidate.courier_id,
                distance_km=candidate.distance_km,
                created_at=now,
                expires_at=expires_at,
            )
    except IntegrityError:
        return False
    return True


def _offer_dto(offer: Offer, *, hub: HubPoint, joins_trip: bool = False) -> OfferDTO:
    job = offer.job
    stop = job_stop(job, hub)
    return OfferDTO(
        id=str(offer.pk),
        job_id=str(job.pk),
        status=offer.status,
        hub_code=job.hub_code,
        bags=job.bags,
        postcode=job.postcode,
        window_start=job.window_start,
        window_end=job.window_end,
        distance_to_hub_km=round(offer.distance_km, 2) if offer.distance_km is not None else None,
        dropoff_distance_km=round(distance_km(hub.lat, hub.lon, stop.lat, stop.lon), 2),
        age_restricted=job.age_restricted,
        expires_at=offer.expires_at,
        joins_trip=joins_trip,
    )


def offers_for_courier(*, user_id: int) -> tuple[OfferDTO, ...]:
    """The courier's own offers still open (pending and not expired)."""
    courier = courier_for_user(user_id)
    offers = (
        Offer.objects.filter(
            courier=courier, status=OfferStatus.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("job")
        .order_by("expires_at")
    )
    open_trip = (
        Trip.objects.filter(courier=courier, status__in=BATCHABLE_TRIP_STATUSES)
        .values_list("hub_code", flat=True)
        .first()
    )
    return tuple(
        _offer_dto(o, hub=hub_point(o.job.hub_code), joins_trip=open_trip == o.job.hub_code)
        for o in offers
    )


def offer_accept(*, user_id: int, offer_id: str) -> OfferDTO:
    """Take the job. Clear 409s: `offer_expired`, `offer_already_answered`, `job_taken`,
    `no_capacity`; 404 for an offer that is not this courier's."""
    from .trips import trip_add_job

    now = timezone.now()
    try:
        with transaction.atomic():
            courier = courier_for_user(user_id, lock=True)
            offer = _own_offer(courier, offer_id)
            if offer.status != OfferStatus.PENDING or offer.expires_at <= now:
                _raise_not_open(offer, now=now)
            # The job row decides: concurrent accepts queue on it and only the first finds it
            # without a courier. Locking the job before any offer keeps one lock order.
            taken = DeliveryJob.objects.filter(
                pk=offer.job_id,
                courier__isnull=True,
                status__in=[JobStatus.PENDING, JobStatus.OFFERED],
            ).update(status=JobStatus.ASSIGNED, courier=courier, accepted_at=now, updated_at=now)
            if not taken:
                raise JobTakenError()
            won = Offer.objects.filter(
                pk=offer.pk, status=OfferStatus.PENDING, expires_at__gt=now
            ).update(status=OfferStatus.ACCEPTED, responded_at=now)
            if not won:  # expired or withdrawn since we read it; the job update rolls back
                _raise_not_open(offer, now=now)
            trip_add_job(courier=courier, job_id=offer.job_id, now=now, job=offer.job)
            Offer.objects.filter(job_id=offer.job_id, status=OfferStatus.PENDING).exclude(
                pk=offer.pk
            ).update(status=OfferStatus.WITHDRAWN, responded_at=now)
            # What the conditional update just wrote (the DTO shows no job field accept changes).
            offer.status, offer.responded_at = OfferStatus.ACCEPTED, now
    except IntegrityError:
        # The partial unique constraint: another courier's accept committed first.
        _withdraw(offer_id)
        raise JobTakenError()
    except (JobTakenError, NoCapacityError) as exc:
        _withdraw(offer_id)
        if isinstance(exc, NoCapacityError):
            _move_on(offer_id)
        raise
    offers_answered.labels(outcome="accepted").inc()
    return _offer_dto(offer, hub=hub_point(offer.job.hub_code))


def offer_decline(*, user_id: int, offer_id: str) -> OfferDTO:
    """Say no; the job moves on to the next courier at once."""
    from ..tasks.dispatch import offer_job

    now = timezone.now()
    with transaction.atomic():
        courier = courier_for_user(user_id)
        offer = _own_offer(courier, offer_id)
        declined = Offer.objects.filter(
            pk=offer.pk, status=OfferStatus.PENDING, expires_at__gt=now
        ).update(status=OfferStatus.DECLINED, responded_at=now)
        if not declined:
            _raise_not_open(offer, now=now)
        offer.refresh_from_db()
        offer_job.delay_on_commit(job_id=str(offer.job_id))
    offers_answered.labels(outcome="declined").inc()
    return _offer_dto(offer, hub=hub_point(offer.job.hub_code))


def offers_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Expire offers past `expires_at` and move their jobs on; retry jobs still waiting for a
    courier. Safe to run anywhere, any number of times (SKIP LOCKED, conditional updates)."""
    now = now or timezone.now()
    config = dispatch_config()
    with transaction.atomic():
        expired = list(
            Offer.objects.select_for_update(skip_locked=True)
            .filter(status=OfferStatus.PENDING, expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", "job_id", "broadcast")[:limit]
        )
        if expired:
            Offer.objects.filter(
                pk__in=[pk for pk, _, _ in expired], status=OfferStatus.PENDING
            ).update(status=OfferStatus.EXPIRED)
            offers_answered.labels(outcome="expired").inc(len(expired))
    retry_before = now - timedelta(seconds=max(1, config.offer_seconds // 6))
    waiting = DeliveryJob.objects.filter(status__in=[JobStatus.PENDING, JobStatus.OFFERED]).filter(
        Q(last_offer_attempt_at__isnull=True) | Q(last_offer_attempt_at__lte=retry_before)
    )
    job_ids = {str(job_id) for _, job_id, _ in expired}
    job_ids |= {str(pk) for pk in waiting.values_list("pk", flat=True)[:limit]}
    outcomes: dict[str, int] = {"expired": len(expired)}
    for job_id in sorted(job_ids):
        result = job_offer_next(job_id=job_id, now=now)
        outcomes[result] = outcomes.get(result, 0) + 1
    return outcomes


def offers_withdraw_for_courier(*, courier_id: int) -> int:
    """A courier going offline hands back their open offers; each job moves on."""
    from ..tasks.dispatch import offer_job

    now = timezone.now()
    pending = list(
        Offer.objects.filter(courier_id=courier_id, status=OfferStatus.PENDING).values_list(
            "pk", "job_id"
        )
    )
    Offer.objects.filter(pk__in=[pk for pk, _ in pending], status=OfferStatus.PENDING).update(
        status=OfferStatus.WITHDRAWN, responded_at=now
    )
    for _, job_id in pending:
        offer_job.delay_on_commit(job_id=str(job_id))
    return len(pending)


def _own_offer(courier: CourierProfile, offer_id: str) -> Offer:
    """The courier's own offer; another courier's offer is as invisible as a missing one."""
    try:
        uuid.UUID(str(offer_id))
    except ValueError:
        raise OfferNotFoundError()
    offer = Offer.objects.select_related("job").filter(pk=offer_id, courier=courier).first()
    if offer is None:
        raise OfferNotFoundError()
    return offer


def _raise_not_open(offer: Offer, *, now: datetime) -> None:
    offer.refresh_from_db(fields=["status", "expires_at"])
    if offer.status == OfferStatus.EXPIRED or (
        offer.status == OfferStatus.PENDING and offer.expires_at <= now
    ):
        raise OfferExpiredError(fields={"expired_at": offer.expires_at.isoformat()})
    if offer.status == OfferStatus.WITHDRAWN:
        raise JobTakenError("This offer was withdrawn: the delivery has gone to someone else.")
    raise OfferAlreadyAnsweredError(fields={"status": offer.status})


def _withdraw(offer_id: str) -> None:
    Offer.objects.filter(pk=offer_id, status=OfferStatus.PENDING).update(
        status=OfferStatus.WITHDRAWN, responded_at=timezone.now()
    )


def _move_on(offer_id: str) -> None:
    from ..tasks.dispatch import offer_job

    with transaction.atomic():
        offer = Offer.objects.filter(pk=offer_id).first()
        if offer is not None:
            offer_job.delay_on_commit(job_id=str(offer.job_id))
