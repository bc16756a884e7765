"""What dispatchers and the watchers do: reassign, cancel, and the late-order watch."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from prime_now.kernel import bus

from ..events import DeliveryRunningLate
from ..models import CourierProfile, DeliveryJob, JobStatus, Offer, OfferStatus
from ..models.transport import LIVE_JOB_STATUSES, UNASSIGNED_JOB_STATUSES
from .config import dispatch_config
from .dto import JobDTO
from .errors import JobNotFoundError, NotACourierError, ReassignError
from .jobs import estimated_unassigned_arrival, job_dto, job_flag
from .offers import job_offer_next
from .trips import trip_detach_job, trips_refresh_all

logger = logging.getLogger(__name__)


LOCK_TRIES = 5


def _lock_job(**lookup: object) -> DeliveryJob | None:
    """Lock a job the way every writer does: its courier (if any) first, then the job. The
    courier is read before the locks, so it is checked again under them: when the job
    changed hands meanwhile, the locks are given back (a savepoint) and taken again."""
    for _ in range(LOCK_TRIES - 1):
        seen = DeliveryJob.objects.filter(**lookup).only("pk", "courier_id").first()
        if seen is None:
            return None
        savepoint = transaction.savepoint_create()
        if seen.courier_id is not None:
            CourierProfile.objects.select_for_update().filter(pk=seen.courier_id).first()
        job = DeliveryJob.objects.select_for_update().get(pk=seen.pk)
        if job.courier_id is None or job.courier_id == seen.courier_id:
            transaction.savepoint_commit(savepoint)
            return job
        transaction.savepoint_rollback(savepoint)
    # Handed over on every try: lock it as it is now (the lock timeout bounds any wait).
    latest = DeliveryJob.objects.select_for_update().filter(**lookup).first()
    if latest is not None and latest.courier_id is not None:
        CourierProfile.objects.select_for_update().filter(pk=latest.courier_id).first()
    return latest


def _release(job: DeliveryJob, *, now: datetime) -> None:
    """Withdraw the job's open offers and take it back from its courier (not yet picked up)."""
    Offer.objects.filter(job=job, status__in=[OfferStatus.PENDING, OfferStatus.ACCEPTED]).update(
        status=OfferStatus.WITHDRAWN, responded_at=now
    )
    if job.status == JobStatus.ASSIGNED:
        trip_detach_job(job=job, now=now)
        job.courier = None
        job.accepted_at = None
        job.eta = None


def job_reassign(
    *, job_id: str, actor_id: int | None = None, courier_user_id: int | None = None
) -> JobDTO:
    """A dispatcher takes a job back from whoever has it (until the bags leave the hub) and
    offers it to the courier they name, or to the next candidate."""
    now = timezone.now()
    with transaction.atomic():
        job = _lock_job(pk=job_id)
        if job is None:
            raise JobNotFoundError()
        if job.status not in (JobStatus.PENDING, JobStatus.OFFERED, JobStatus.ASSIGNED):
            raise ReassignError(fields={"status": job.status})
        target = None
        if courier_user_id is not None:
            target = CourierProfile.objects.filter(user_id=courier_user_id).first()
            if target is None:
                raise NotACourierError("That user has no courier profile.")
            if job.courier_id == target.pk:
                raise ReassignError("The job is already with that courier.")
            Offer.objects.filter(
                courier=target, status=OfferStatus.PENDING, broadcast=False
            ).update(status=OfferStatus.WITHDRAWN, responded_at=now)
        _release(job, now=now)
        job.status = JobStatus.PENDING
        job.save()
        logger.info("job %s reassigned by user %s", job.order_number, actor_id)
        if target is not None:
            Offer.objects.create(
                job=job,
                courier=target,
                created_at=now,
                expires_at=now + timedelta(seconds=dispatch_config().offer_seconds),
            )
            job.status = JobStatus.OFFERED
            job.last_offer_attempt_at = now
            job.save(update_fields=["status", "last_offer_attempt_at", "updated_at"])
    if target is None:
        job_offer_next(job_id=str(job.pk))
    job.refresh_from_db()
    return job_dto(job)


def job_cancel_for_order(*, order_number: str) -> bool:
    """The order was cancelled: stop dispatching it. Idempotent; False if nothing to cancel."""
    now = timezone.now()
    with transaction.atomic():
        job = _lock_job(order_number=order_number)
        if job is None or job.status not in (
            JobStatus.PENDING,
            JobStatus.OFFERED,
            JobStatus.ASSIGNED,
        ):
            return False
        _release(job, now=now)
        job.cancel()
        job.save()
    return True


def late_orders_watch(*, now: datetime | None = None) -> int:
    """Flag live jobs whose ETA (or best-case arrival, when unassigned) passes the window end.
    Returns how many were newly flagged; running it again flags nothing new."""
    now = now or timezone.now()
    trips_refresh_all(now=now)
    flagged = 0
    live = DeliveryJob.objects.filter(
        status__in=LIVE_JOB_STATUSES,
        at_risk=False,
    )
    for job_id in live.values_list("pk", flat=True).iterator(chunk_size=500):
        with transaction.atomic():
            job = DeliveryJob.objects.select_for_update().filter(pk=job_id, at_risk=False).first()
            if job is None:
                continue
            if job.status in UNASSIGNED_JOB_STATUSES:
                expected = estimated_unassigned_arrival(job, now=now)
            else:
                expected = job.eta or now
            if max(expected, now) <= job.window_end:
                continue
            job.at_risk = True
            job_flag(job, reason="late", now=now)
            job.save(update_fields=["at_risk", "flagged_at", "flag_reason", "updated_at"])
            bus.publish(
                DeliveryRunningLate(
                    order_number=job.order_number,
                    window_end=job.window_end,
                    expected_at=max(expected, now),
                )
            )
            flagged += 1
    return flagged
