"""Offering jobs to couriers: one offer at a time (or to everyone, once flagged), accept,
decline, expiry.

Expiry is a timestamp in the database (`Offer.expires_at`), moved on by the beat sweeper;
no Celery countdowns. Accepting is a conditional update on the offer (still pending, not
expired) and one on the job (still without a courier): whatever the interleaving, one courier
wins, and the partial unique constraint on accepted offers makes a second winner impossible.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from ordering.services import OrderDTO
from prime_now.kernel.geo import distance_km

from ..models.transport import (
    BATCHABLE_TRIP_STATUSES,
    UNASSIGNED_JOB_STATUSES,
    CourierProfile,
    DeliveryJob,
    JobStatus,
    Offer,
    OfferStatus,
    Trip,
)
from .candidates import Candidate, iter_candidates
from .config import dispatch_config
from .dto import OfferDTO
from .enqueue import offer_job_enqueue
from .errors import (
    JobTakenError,
    NoCapacityError,
    OfferAlreadyAnsweredError,
    OfferExpiredError,
    OfferNotFoundError,
)
from .hubs import HubPoint, hub_point
from .jobs import estimated_unassigned_arrival, job_flag, job_stop, packed_order_job
from .metrics import offers_answered, stage_seconds
from .profiles import courier_for_user
from .trips import trip_add_job


class OfferRound(StrEnum):
    """What one round of offering a job did."""

    OFFERED = "offered"  # one courier has a directed offer
    BROADCAST = "broadcast"  # every candidate has an offer, first to accept wins
    WAITING = "waiting"  # an offer is already out
    NO_CANDIDATE = "no_candidate"  # nobody can take it now; the sweeper tries again
    DONE = "done"  # the job has a courier, or is over


# What a round of offering writes on the job.
_ROUND_FIELDS = (
    "status",
    "misses",
    "last_offer_attempt_at",
    "at_risk",
    "broadcast",
    "flagged_at",
    "flag_reason",
    "updated_at",
)


def job_dispatch_packed_order(
    *, order_number: str, hub_code: str, bags: int, skus: tuple[str, ...], order: OrderDTO
) -> OfferRound:
    """A packed order: make its delivery job (once) and offer it in the caller's transaction;
    a second task would wait behind the queue. If nobody is free, the sweeper keeps trying."""
    job, created = packed_order_job(
        order_number=order_number, hub_code=hub_code, bags=bags, skus=skus, order=order
    )
    return job_offer_next(job_id=str(job.pk), fresh=created, job=job if created else None)


def job_offer_next(
    *,
    job_id: str,
    now: datetime | None = None,
    fresh: bool = False,
    job: DeliveryJob | None = None,
) -> OfferRound:
    """Offer a waiting job to the next candidate (or, once flagged, to every candidate).

    Idempotent: while an offer is out, or once the job has a courier, it does nothing.
    `fresh`: the caller created the job in this same transaction, so it has no offers yet;
    it may then pass the row it inserted as `job` (held by that insert until commit), which
    saves reading and locking it again. Inside a caller's transaction it joins it (no
    savepoint of its own: an error here aborts the caller's work too, as the handler wants).
    """
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        if not (fresh and job is not None and str(job.pk) == str(job_id)):
            job = DeliveryJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in UNASSIGNED_JOB_STATUSES:
            return OfferRound.DONE
        if not fresh and job.offers.filter(status=OfferStatus.PENDING).exists():
            return OfferRound.WAITING
        hub = hub_point(job.hub_code)
        _take_stock(job, now=now, fresh=fresh)
        candidates = iter_candidates(job, now=now, hub=hub, every=job.broadcast, fresh=fresh)
        expires_at = now + timedelta(seconds=dispatch_config().offer_seconds)
        if job.broadcast:
            offered = _offer_to_all(job, candidates, now=now, expires_at=expires_at)
        else:
            offered = _offer_to_first(job, candidates, now=now, expires_at=expires_at)
        job.status = JobStatus.OFFERED if offered else JobStatus.PENDING
        job.save(update_fields=_ROUND_FIELDS)
    if not offered:
        return OfferRound.NO_CANDIDATE
    return OfferRound.BROADCAST if job.broadcast else OfferRound.OFFERED


def _take_stock(job: DeliveryJob, *, now: datetime, fresh: bool) -> None:
    """Before a round: count the misses, and flag the job when its window is at risk or when
    too many couriers let it pass (from then on it is broadcast). The caller saves."""
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
    if job.misses >= dispatch_config().max_misses and not job.broadcast:
        job.broadcast = True
        job_flag(job, reason="no_taker", now=now)


def _offer_to_all(
    job: DeliveryJob, candidates: Iterable[Candidate], *, now: datetime, expires_at: datetime
) -> bool:
    offers = Offer.objects.bulk_create(
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
    offers_answered.labels(outcome="made").inc(len(offers))
    return bool(offers)


def _offer_to_first(
    job: DeliveryJob, candidates: Iterable[Candidate], *, now: datetime, expires_at: datetime
) -> bool:
    for candidate in candidates:
        # Another job may have just asked this courier: then try the next one.
        if _offer_insert(job, candidate, now=now, expires_at=expires_at):
            offers_answered.labels(outcome="made").inc()
            return True
    return False


# ON CONFLICT DO NOTHING ... RETURNING (a correctness rule the ORM cannot express): one
# statement, no savepoint, and it tells whether the unique rules let the offer in.
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
    already has a pending directed offer)."""
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


def _offer_dto(offer: Offer, *, hub: HubPoint, joins_trip: bool = False) -> OfferDTO:
    job = offer.job
    stop = job_stop(job, hub)
    return OfferDTO(
        id=str(offer.pk),
        job_id=str(job.pk),
        status=OfferStatus(offer.status),
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
    now = timezone.now()
    try:
        with transaction.atomic():
            offer = _accept(user_id=user_id, offer_id=offer_id, now=now)
    except IntegrityError:
        # The partial unique constraint: another courier's accept committed first.
        _withdraw(offer_id)
        raise JobTakenError()
    except JobTakenError:
        _withdraw(offer_id)
        raise
    except NoCapacityError:
        _withdraw(offer_id)
        _move_on(offer_id)
        raise
    offers_answered.labels(outcome="accepted").inc()
    stage_seconds.labels(stage="packed_to_accepted").observe(
        (now - offer.job.packed_at).total_seconds()
    )
    return _offer_dto(offer, hub=hub_point(offer.job.hub_code))


def _accept(*, user_id: int, offer_id: str, now: datetime) -> Offer:
    """The accept's transaction: the job is taken, the offer accepted, the job joins the
    courier's trip and every other pending offer for it is withdrawn."""
    courier = courier_for_user(user_id, lock=True)
    offer = _own_offer(courier, offer_id)
    if offer.status != OfferStatus.PENDING or offer.expires_at <= now:
        _raise_not_open(offer, now=now)
    # The job row decides: concurrent accepts queue on it and only the first finds it
    # without a courier. Locking the job before any offer keeps one lock order.
    taken = DeliveryJob.objects.filter(
        pk=offer.job_id, courier__isnull=True, status__in=UNASSIGNED_JOB_STATUSES
    ).update(status=JobStatus.ASSIGNED, courier=courier, accepted_at=now, updated_at=now)
    if not taken:
        raise JobTakenError()
    won = Offer.objects.filter(pk=offer.pk, status=OfferStatus.PENDING, expires_at__gt=now).update(
        status=OfferStatus.ACCEPTED, responded_at=now
    )
    if not won:  # expired or withdrawn since we read it; the job update rolls back
        _raise_not_open(offer, now=now)
    trip_add_job(courier=courier, job_id=str(offer.job_id), now=now, job=offer.job)
    Offer.objects.filter(job_id=offer.job_id, status=OfferStatus.PENDING).exclude(
        pk=offer.pk
    ).update(status=OfferStatus.WITHDRAWN, responded_at=now)
    # What the conditional update just wrote (the DTO shows no job field accept changes).
    offer.status, offer.responded_at = OfferStatus.ACCEPTED, now
    return offer


def offer_decline(*, user_id: int, offer_id: str) -> OfferDTO:
    """Say no; the job moves on to the next courier at once."""
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
        offer_job_enqueue(job_id=str(offer.job_id))
    offers_answered.labels(outcome="declined").inc()
    return _offer_dto(offer, hub=hub_point(offer.job.hub_code))


def offers_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Expire offers past `expires_at` and move their jobs on; retry jobs still waiting for a
    courier. Safe to run anywhere, any number of times (SKIP LOCKED, conditional updates).
    Returns how many offers expired and how many jobs each round outcome had."""
    now = now or timezone.now()
    expired_job_ids = _offers_expire(now=now, limit=limit)
    retry_before = now - timedelta(seconds=max(1, dispatch_config().offer_seconds // 6))
    waiting = DeliveryJob.objects.filter(status__in=UNASSIGNED_JOB_STATUSES).filter(
        Q(last_offer_attempt_at__isnull=True) | Q(last_offer_attempt_at__lte=retry_before)
    )
    job_ids = set(expired_job_ids)
    job_ids |= {str(pk) for pk in waiting.values_list("pk", flat=True)[:limit]}
    outcomes: dict[str, int] = {"expired": len(expired_job_ids)}
    for job_id in sorted(job_ids):
        result = job_offer_next(job_id=job_id, now=now)
        outcomes[result] = outcomes.get(result, 0) + 1
    return outcomes


def _offers_expire(*, now: datetime, limit: int) -> list[str]:
    """Expire up to `limit` pending offers past `expires_at` (rows another sweeper holds are
    skipped); returns their jobs' ids, one per offer."""
    with transaction.atomic():
        expired = list(
            Offer.objects.select_for_update(skip_locked=True)
            .filter(status=OfferStatus.PENDING, expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", "job_id")[:limit]
        )
        if expired:
            Offer.objects.filter(
                pk__in=[pk for pk, _ in expired], status=OfferStatus.PENDING
            ).update(status=OfferStatus.EXPIRED)
            offers_answered.labels(outcome="expired").inc(len(expired))
    return [str(job_id) for _, job_id in expired]


def offers_withdraw_for_courier(*, courier_id: int) -> int:
    """A courier going offline hands back their open offers; each job moves on."""
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
        offer_job_enqueue(job_id=str(job_id))
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
    with transaction.atomic():
        offer = Offer.objects.filter(pk=offer_id).first()
        if offer is not None:
            offer_job_enqueue(job_id=str(offer.job_id))
