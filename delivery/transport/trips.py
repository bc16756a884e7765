"""The courier's trip: to the hub, bags collected, each door in turn, delivered or failed.

Every step moves the order along through ordering's door in the same transaction, so the
order and the trip never disagree: picked up → out for delivery; delivered → delivered (the
payment is captured for the picked amount); failed → goods back to the hub, order
delivery-failed, payment voided.
"""

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from fulfillment.services import goods_return
from ordering.services import (
    order_mark_delivered,
    order_mark_delivery_failed,
    order_mark_out_for_delivery,
)
from prime_now.kernel.geo import distance_km

from ..models.transport import (
    ASSIGNED_JOB_STATUSES,
    BATCHABLE_TRIP_STATUSES,
    OPEN_TRIP_STATUSES,
    CourierProfile,
    DeliveryJob,
    JobStatus,
    Trip,
    TripStatus,
)
from ..travel import travel_time
from .batching import order_stops, route_arrivals
from .config import dispatch_config
from .dto import StopDTO, TripDTO
from .earnings import trip_earning_record
from .errors import (
    AgeCheckRequiredError,
    BagsMismatchError,
    JobNotFoundError,
    NoCapacityError,
    NoTripError,
    OutsideGeofenceError,
    TripStepError,
)
from .hubs import HubPoint, hub_point
from .jobs import job_stop
from .metrics import deliveries_finished, stage_seconds, window_margin
from .profiles import courier_for_user, position_is_fresh, profile_speed
from .proofs import proof_for_job

# --- joining a trip (called by offer_accept inside its transaction) --------------------------


def trip_add_job(
    *, courier: CourierProfile, job_id: str, now: datetime, job: DeliveryJob | None = None
) -> Trip:
    """Put an accepted job in the courier's open trip (a new one if none), within bag capacity,
    and re-order the stops nearest-first. `job`: the caller already holds the job's row lock
    (offer_accept's conditional update) and its row as read (accepting changes none of the
    fields read here: hub, bags, drop-off, window, stop)."""
    trip = (
        Trip.objects.select_for_update()
        .filter(courier=courier, status__in=OPEN_TRIP_STATUSES)
        .first()
    )
    if job is None or str(job.pk) != str(job_id):
        job = DeliveryJob.objects.select_for_update().get(pk=job_id)
    if trip is not None and (
        trip.status not in BATCHABLE_TRIP_STATUSES or trip.hub_code != job.hub_code
    ):
        raise NoCapacityError("Finish your current trip before taking another delivery.")
    free = courier.bag_capacity - (trip.bags if trip is not None else 0)
    if job.bags > free:
        raise NoCapacityError(fields={"bags": job.bags, "free": free})
    new_trip = trip is None
    if trip is None:  # made with its first job's bags: one INSERT, no update after
        trip = Trip.objects.create(
            courier=courier, hub_code=job.hub_code, created_at=now, bags=job.bags
        )
    else:
        trip.bags += job.bags
        trip.save(update_fields=["bags"])
    _join_and_resequence(trip, job, courier=courier, now=now, new_trip=new_trip)
    return trip


def _join_and_resequence(
    trip: Trip, job: DeliveryJob, *, courier: CourierProfile, now: datetime, new_trip: bool
) -> None:
    """Put the accepted `job` in `trip`, then `_resequence` and `_refresh`, on one read of
    the trip's other stops (none to read on a new trip) and with one write."""
    hub = hub_point(trip.hub_code)
    others = (
        []
        if new_trip
        else list(trip.jobs.filter(status__in=ASSIGNED_JOB_STATUSES).exclude(pk=job.pk))
    )
    stamp = timezone.now()
    job.trip, job.status, job.updated_at = trip, JobStatus.ASSIGNED, stamp
    jobs = [*others, job]
    assigned = {str(j.pk): j for j in jobs if j.status == JobStatus.ASSIGNED}
    ordered = order_stops(hub.lat, hub.lon, [job_stop(j, hub) for j in assigned.values()])
    for sequence, stop in enumerate(ordered, start=1):
        stop_job = assigned[stop.key]
        if stop_job.stop_sequence != sequence:
            stop_job.stop_sequence = sequence
            stop_job.updated_at = stamp
    # As `_refresh` reads them: by stop, unsequenced last (PostgreSQL's NULLS LAST).
    jobs.sort(key=lambda j: (j.stop_sequence is None, j.stop_sequence or 0))
    _set_etas(trip, jobs, courier=courier, now=now, hub=hub)
    if len(jobs) == 1:  # a new trip: a plain UPDATE, not bulk_update's CASE
        DeliveryJob.objects.filter(pk=job.pk).update(
            trip=trip, stop_sequence=job.stop_sequence, updated_at=job.updated_at, eta=job.eta
        )
    else:
        DeliveryJob.objects.bulk_update(jobs, ["trip", "stop_sequence", "updated_at", "eta"])


def _resequence(trip: Trip) -> None:
    hub = hub_point(trip.hub_code)
    jobs = {str(j.pk): j for j in trip.jobs.filter(status=JobStatus.ASSIGNED)}
    ordered = order_stops(hub.lat, hub.lon, [job_stop(j, hub) for j in jobs.values()])
    changed = []
    now = timezone.now()
    for sequence, stop in enumerate(ordered, start=1):
        job = jobs[stop.key]
        if job.stop_sequence != sequence:
            job.stop_sequence = sequence
            job.updated_at = now
            changed.append(job)
    if changed:  # one statement, however many stops moved
        DeliveryJob.objects.bulk_update(changed, ["stop_sequence", "updated_at"])


# --- ETAs --------------------------------------------------------------------------------


def _refresh(trip: Trip, *, courier: CourierProfile, now: datetime) -> None:
    """Recompute the ETA of each stop still to come from where the courier is now."""
    hub = hub_point(trip.hub_code)
    jobs = list(trip.jobs.filter(status__in=ASSIGNED_JOB_STATUSES).order_by("stop_sequence"))
    if not jobs:
        return
    _set_etas(trip, jobs, courier=courier, now=now, hub=hub)
    DeliveryJob.objects.bulk_update(jobs, ["eta"])  # one statement for the whole trip


def _set_etas(
    trip: Trip,
    jobs: list[DeliveryJob],
    *,
    courier: CourierProfile,
    now: datetime,
    hub: HubPoint,
) -> None:
    """Set each job's `eta` (in stop order) from the courier's position and the trip's step."""
    if not jobs:
        return
    config = dispatch_config()
    speed = profile_speed(courier, now=now)
    here = (hub.lat, hub.lon)
    if position_is_fresh(courier, now=now) and courier.lat is not None and courier.lon is not None:
        here = (courier.lat, courier.lon)
    pickup = timedelta(minutes=config.pickup_minutes)
    if trip.status == TripStatus.ACCEPTED:
        depart = now + travel_time(distance_km(*here, hub.lat, hub.lon), speed) + pickup
        start = (hub.lat, hub.lon)
    elif trip.status == TripStatus.AT_HUB:
        depart, start = now + pickup, (hub.lat, hub.lon)
    else:
        depart, start = now, here
    arrivals = route_arrivals(*start, depart, [job_stop(j, hub) for j in jobs], speed)
    for job, eta in zip(jobs, arrivals, strict=True):
        job.eta = eta


def trip_refresh_eta(*, courier: CourierProfile, now: datetime) -> None:
    trip = Trip.objects.filter(courier=courier, status__in=OPEN_TRIP_STATUSES).first()
    if trip is not None:
        _refresh(trip, courier=courier, now=now)


def trips_refresh_all(*, now: datetime) -> int:
    trips = Trip.objects.filter(status__in=OPEN_TRIP_STATUSES).select_related("courier")
    count = 0
    for trip in trips.iterator(chunk_size=200):
        _refresh(trip, courier=trip.courier, now=now)
        count += 1
    return count


# --- what the courier sees ---------------------------------------------------------------


def _trip_dto(trip: Trip) -> TripDTO:
    hub = hub_point(trip.hub_code)
    jobs = list(trip.jobs.all().order_by("stop_sequence", "created_at"))
    current = _current_stop(trip, jobs)
    stops = []
    for job in jobs:
        is_current = current is not None and job.pk == current.pk
        stops.append(
            StopDTO(
                job_id=str(job.pk),
                sequence=job.stop_sequence or 0,
                status=JobStatus(job.status),
                postcode=job.postcode,
                window_start=job.window_start,
                window_end=job.window_end,
                bags=job.bags,
                age_restricted=job.age_restricted,
                eta=job.eta,
                current=is_current,
                # Only the door the courier is heading to now is disclosed.
                order_number=job.order_number if is_current else None,
                address=job.address if is_current else None,
                lat=job.lat if is_current else None,
                lon=job.lon if is_current else None,
            )
        )
    return TripDTO(
        id=str(trip.pk),
        status=TripStatus(trip.status),
        hub_code=trip.hub_code,
        hub_lat=hub.lat,
        hub_lon=hub.lon,
        bags=trip.bags,
        created_at=trip.created_at,
        stops=tuple(stops),
    )


def _current_stop(trip: Trip, jobs: list[DeliveryJob]) -> DeliveryJob | None:
    if trip.status != TripStatus.ON_ROUTE:
        return None
    return next((j for j in jobs if j.status == JobStatus.ON_THE_WAY), None)


def trip_current(*, user_id: int) -> TripDTO | None:
    courier = courier_for_user(user_id)
    trip = Trip.objects.filter(courier=courier, status__in=OPEN_TRIP_STATUSES).first()
    return _trip_dto(trip) if trip is not None else None


def _open_trip(courier: CourierProfile) -> Trip:
    trip = (
        Trip.objects.select_for_update()
        .filter(courier=courier, status__in=OPEN_TRIP_STATUSES)
        .first()
    )
    if trip is None:
        raise NoTripError()
    return trip


def _step(trip: Trip, name: str) -> None:
    try:
        getattr(trip, name)()
    except TransitionNotAllowed:
        raise TripStepError(fields={"trip_status": trip.status})


# --- the steps ---------------------------------------------------------------------------


def trip_arrive_at_hub(*, user_id: int) -> TripDTO:
    now = timezone.now()
    with transaction.atomic():
        courier = courier_for_user(user_id, lock=True)
        trip = _open_trip(courier)
        _step(trip, "arrive_at_hub")
        trip.save(update_fields=["status", "arrived_at_hub_at"])
        _refresh(trip, courier=courier, now=now)
    return _trip_dto(trip)


def trip_pick_up(*, user_id: int, bags: int) -> TripDTO:
    """The courier confirms the bags; every order in the trip is out for delivery and the
    first stop is under way."""
    now = timezone.now()
    with transaction.atomic():
        courier = courier_for_user(user_id, lock=True)
        trip = _open_trip(courier)
        if bags != trip.bags:
            raise BagsMismatchError(fields={"bags": f"This trip has {trip.bags} bags."})
        _step(trip, "pick_up")
        trip.save(update_fields=["status", "picked_up_at"])
        jobs = list(
            trip.jobs.select_for_update()
            .filter(status=JobStatus.ASSIGNED)
            .order_by("stop_sequence")
        )
        for job in jobs:
            job.pick_up()
            job.save(update_fields=["status", "picked_up_at", "updated_at"])
            order_mark_out_for_delivery(number=job.order_number)
        _advance(trip, now=now)
        _refresh(trip, courier=courier, now=now)
    return _trip_dto(trip)


def _own_live_job(courier: CourierProfile, trip: Trip, job_id: str) -> DeliveryJob:
    try:
        uuid.UUID(str(job_id))
    except ValueError:
        raise JobNotFoundError()
    job = (
        DeliveryJob.objects.select_for_update()
        .filter(pk=job_id, courier=courier, trip=trip)
        .first()
    )
    if job is None:
        raise JobNotFoundError()
    if job.status != JobStatus.ON_THE_WAY:
        raise TripStepError(
            "That stop is not the one you are heading to.", fields={"stop_status": job.status}
        )
    return job


def stop_deliver(
    *,
    user_id: int,
    job_id: str,
    proof_kind: str,
    proof_reference: str,
    lat: float,
    lon: float,
    age_verified: bool = False,
) -> TripDTO:
    """Hand over at the door: proof (the id of the photo or signature uploaded for this stop,
    see proofs.py), within the geofence, and an ID check for age-restricted goods. The order
    is delivered and its payment captured."""
    now = timezone.now()
    config = dispatch_config()
    if proof_kind not in DeliveryJob.ProofKind.values or not proof_reference.strip():
        raise TripStepError(
            "Proof of delivery is required.",
            fields={"proof": "A photo reference or a signature."},
        )
    with transaction.atomic():
        courier = courier_for_user(user_id, lock=True)
        trip = _open_trip(courier)
        job = _own_live_job(courier, trip, job_id)
        if job.age_restricted and not age_verified:
            raise AgeCheckRequiredError()
        distance_m = None
        if job.lat is not None and job.lon is not None:
            distance_m = distance_km(lat, lon, job.lat, job.lon) * 1000
            if distance_m > config.geofence_meters:
                raise OutsideGeofenceError(
                    fields={"distance_m": round(distance_m), "limit_m": config.geofence_meters}
                )
        if proof_for_job(job, kind=proof_kind, reference=proof_reference.strip()) is None:
            raise TripStepError(
                f"Upload the {proof_kind} first, then name it here.",
                fields={"proof_reference": "Not an uploaded proof of this stop."},
            )
        job.deliver()
        job.proof_kind, job.proof_reference = proof_kind, proof_reference.strip()[:200]
        job.delivered_lat, job.delivered_lon, job.delivered_distance_m = lat, lon, distance_m
        job.age_verified = bool(age_verified)
        job.save()
        order_mark_delivered(number=job.order_number)
        _advance(trip, now=now)
        _refresh(trip, courier=courier, now=now)
    _count_delivered(job, now)
    return _trip_dto(trip)


def _count_delivered(job: DeliveryJob, now: datetime) -> None:
    margin = (job.window_end - now).total_seconds()
    deliveries_finished.labels(
        outcome="delivered_late" if margin < 0 else "delivered_on_time"
    ).inc()
    window_margin.observe(margin)
    if job.accepted_at is not None:
        stage_seconds.labels(stage="accepted_to_delivered").observe(
            (now - job.accepted_at).total_seconds()
        )


def stop_fail(*, user_id: int, job_id: str, reason: str, note: str = "") -> TripDTO:
    """The delivery cannot be made: the goods go back to the hub, the order becomes
    delivery-failed and its payment is voided."""
    now = timezone.now()
    if reason not in DeliveryJob.FailureReason.values:
        raise TripStepError(
            "Say why the delivery failed.",
            fields={"reason": f"One of {', '.join(DeliveryJob.FailureReason.values)}."},
        )
    with transaction.atomic():
        courier = courier_for_user(user_id, lock=True)
        trip = _open_trip(courier)
        job = _own_live_job(courier, trip, job_id)
        job.fail()
        job.failure_reason, job.failure_note = reason, note.strip()[:300]
        job.save()
        text = DeliveryJob.FailureReason(reason).label + (f": {note.strip()}" if note else "")
        goods_return(order_ref=job.order_number, reason=text)
        order_mark_delivery_failed(number=job.order_number, reason=text)
        _advance(trip, now=now)
        _refresh(trip, courier=courier, now=now)
    deliveries_finished.labels(outcome="failed").inc()
    return _trip_dto(trip)


def _advance(trip: Trip, *, now: datetime) -> None:
    """Start the next stop, or finish the trip when no stop is left."""
    if trip.jobs.filter(status=JobStatus.ON_THE_WAY).exists():
        return
    nxt = (
        trip.jobs.select_for_update()
        .filter(status=JobStatus.PICKED_UP)
        .order_by("stop_sequence")
        .first()
    )
    if nxt is not None:
        nxt.head_out()
        nxt.save(update_fields=["status", "updated_at"])
        return
    if not trip.jobs.filter(status__in=ASSIGNED_JOB_STATUSES).exists():
        trip.complete()
        trip.save(update_fields=["status", "completed_at"])
        trip_earning_record(trip)


def trip_detach_job(*, job: DeliveryJob, now: datetime) -> None:
    """Take a not-yet-picked-up job out of its trip (reassign, cancel); an emptied trip ends."""
    trip = job.trip
    if trip is None:
        return
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    trip.bags = max(0, trip.bags - job.bags)
    trip.save(update_fields=["bags"])
    job.trip = None
    job.stop_sequence = None
    job.save(update_fields=["trip", "stop_sequence", "updated_at"])
    if not trip.jobs.filter(status__in=ASSIGNED_JOB_STATUSES).exists():
        trip.complete()
        trip.save(update_fields=["status", "completed_at"])
    else:
        _resequence(trip)
        _refresh(trip, courier=trip.courier, now=now)
