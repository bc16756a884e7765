"""Delivery jobs: made when an order is packed, flagged when they need a dispatcher."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from catalog.services import products_by_skus
from ordering.services import OrderDTO, order_get
from prime_now.kernel.geo import distance_km

from ..models import DeliveryJob, JobStatus
from ..travel import travel_time
from .batching import Stop
from .config import dispatch_config
from .dto import JobDTO
from .hubs import HubPoint, hub_point
from .metrics import jobs_flagged


def job_dto(job: DeliveryJob) -> JobDTO:
    return JobDTO(
        id=str(job.pk),
        order_number=job.order_number,
        hub_code=job.hub_code,
        status=JobStatus(job.status),
        courier_user_id=job.courier.user_id if job.courier is not None else None,
        misses=job.misses,
        flag_reason=job.flag_reason,
        at_risk=job.at_risk,
        eta=job.eta,
        window_start=job.window_start,
        window_end=job.window_end,
    )


def job_create_for_packed_order(
    *,
    order_number: str,
    hub_code: str,
    bags: int,
    skus: tuple[str, ...] = (),
    order: OrderDTO | None = None,
) -> tuple[str, bool]:
    """Make the delivery job for a packed order (idempotent per order). Returns (id, created).

    The drop-off and window are copied from the order, so dispatch never reads them again.
    A caller that has just read the order (ordering's door returns it) passes it as `order`.
    """
    job, created = packed_order_job(
        order_number=order_number, hub_code=hub_code, bags=bags, skus=skus, order=order
    )
    return str(job.pk), created


def packed_order_job(
    *,
    order_number: str,
    hub_code: str,
    bags: int,
    skus: tuple[str, ...] = (),
    order: OrderDTO | None = None,
) -> tuple[DeliveryJob, bool]:
    """`job_create_for_packed_order`, returning the row: a job just created is inserted (and
    so held) by this transaction, and `job_offer_next(job=...)` can offer it without reading
    it back. An existing job is returned as read, unlocked."""
    if order is None or order.number != order_number:
        existing = DeliveryJob.objects.filter(order_number=order_number).first()
        if existing is not None:
            return existing, False
        order = order_get(number=order_number)
    delivery = order.delivery
    all_skus = set(skus) | {line.sku for line in order.lines}
    all_skus |= {line.substitute_sku for line in order.lines if line.substitute_sku}
    age_restricted = any(p.age_restricted for p in products_by_skus(skus=all_skus).values())
    job = DeliveryJob(
        order_number=order_number,
        customer_id=order.customer_id,
        hub_code=hub_code or delivery.hub_code,
        window_id=delivery.window_id,
        window_start=delivery.window_start,
        window_end=delivery.window_end,
        address=delivery.address,
        postcode=delivery.postcode,
        lat=delivery.lat,
        lon=delivery.lon,
        bags=max(1, bags),
        age_restricted=age_restricted,
        tip=order.tip,
    )
    try:
        # One INSERT (no read first): the job is new but for a redelivered or repeated pack.
        with transaction.atomic():
            job.save(force_insert=True)
    except IntegrityError:
        existing = DeliveryJob.objects.filter(order_number=order_number).first()
        if existing is None:  # a broken constraint other than "one job per order"
            raise
        return existing, False
    return job, True


def job_stop(job: DeliveryJob, hub: HubPoint) -> Stop:
    """A job as a route stop. A drop-off given without coordinates (postcode only) is placed at
    its hub: distances then understate, and the geofence cannot be checked."""
    lat, lon = (
        (job.lat, job.lon) if job.lat is not None and job.lon is not None else (hub.lat, hub.lon)
    )
    return Stop(
        key=str(job.pk),
        lat=lat,
        lon=lon,
        window_start=job.window_start,
        window_end=job.window_end,
        bags=job.bags,
    )


def estimated_unassigned_arrival(job: DeliveryJob, *, now: datetime) -> datetime:
    """Best case for a job nobody has yet: a courier at the hub now, straight to the door."""
    config = dispatch_config()
    hub = hub_point(job.hub_code)
    stop = job_stop(job, hub)
    ride = travel_time(distance_km(hub.lat, hub.lon, stop.lat, stop.lon))
    return now + timedelta(minutes=config.pickup_minutes) + ride


def job_flag(job: DeliveryJob, *, reason: str, now: datetime) -> bool:
    """Put the job on the dispatchers' list (once). The caller saves. True when newly flagged."""
    if job.flagged_at is not None:
        return False
    job.flagged_at = now
    job.flag_reason = reason
    jobs_flagged.labels(reason=reason).inc()
    return True
