"""Tracking: where is my order? The order's status timeline (from ordering), its window, and
once a courier has it, the courier's position and the ETA of this stop."""

from dataclasses import dataclass
from datetime import datetime

from ordering.services import OrderStatus, TimelineEntryDTO, order_get

from ..models import DeliveryJob, JobStatus
from ..models.transport import ASSIGNED_JOB_STATUSES

# The courier's position is shown only while they are bringing this order, never after.
_SHOW_COURIER = ASSIGNED_JOB_STATUSES


@dataclass(frozen=True)
class TrackingDTO:
    """An order as its customer follows it: status, timeline, window and, once a courier has
    it, the courier's first name, position, ETA and stops before this one."""

    order_number: str
    status: OrderStatus
    timeline: tuple[TimelineEntryDTO, ...]
    window_start: datetime
    window_end: datetime
    delivery_status: JobStatus | None  # the delivery job's status, once the order is packed
    courier_name: str | None  # first name only
    courier_lat: float | None
    courier_lon: float | None
    eta: datetime | None
    stops_before: int | None  # other doors the courier visits first


def tracking_for(*, order_number: str, customer_id: int) -> TrackingDTO:
    """The customer's own order only: another customer's order is not found (ordering raises
    OrderNotFoundError)."""
    order = order_get(number=order_number, customer_id=customer_id)
    job = (
        DeliveryJob.objects.select_related("courier__user")
        .filter(order_number=order.number)
        .first()
    )
    lat: float | None = None
    lon: float | None = None
    eta: datetime | None = None
    name: str | None = None
    stops_before: int | None = None
    if job is not None and job.status in _SHOW_COURIER and job.courier is not None:
        courier = job.courier
        lat, lon = courier.lat, courier.lon
        eta = job.eta
        name = courier.user.first_name or "Your courier"
        if job.trip_id and job.stop_sequence:
            stops_before = DeliveryJob.objects.filter(
                trip_id=job.trip_id,
                stop_sequence__lt=job.stop_sequence,
                status__in=_SHOW_COURIER,
            ).count()
    return TrackingDTO(
        order_number=order.number,
        status=OrderStatus(order.status),
        timeline=order.timeline,
        window_start=order.delivery.window_start,
        window_end=order.delivery.window_end,
        delivery_status=JobStatus(job.status) if job is not None else None,
        courier_name=name,
        courier_lat=lat,
        courier_lon=lon,
        eta=eta,
        stops_before=stops_before,
    )
