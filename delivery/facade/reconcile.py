"""Reconciliation: find the work that fell between the cracks, re-drive or compensate it,
and count each case (`reconcile_cases_total{case}`). Beat runs it every minute
(`delivery.reconcile`); on-call runs it by hand with `manage.py reconcile`.

Each case looks at what is older than a grace period (work still in flight is left alone)
and younger than a look-back (what is older was settled or is an operator's):

    placed_without_pick_job    a placed checkout whose pick job never came (OrderPlaced
                               lost or dead-lettered): the pick job is created
    packed_without_delivery    a packed pick job whose order never got a delivery job
                               (OrderPacked lost): its undelivered deliveries are sent again
    holds_released             stock holds and window seats of checkouts that failed or died:
                               released (they would expire; this frees them sooner)
    authorizations_voided      payment authorizations no order holds: voided
    orders_cancelled_late      orders never dispatched whose window ended STUCK_AFTER ago:
                               cancelled (the customer is told why, the payment voided)
    (overdue)                  orders out for delivery STUCK_AFTER past their window: logged
                               for dispatchers and shown by `reconcile_orders_out_overdue`
                               (a courier has the goods: nothing to undo automatically)

Every action is idempotent: running twice at once, or again, does nothing more.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from prometheus_client import Counter, Gauge

from fulfillment import services as fulfillment
from fulfillment.events import OrderPacked
from ordering import services as ordering
from prime_now.kernel import bus
from prime_now.kernel.errors import ApplicationError

from ..models import Checkout, CheckoutStatus, DeliveryJob, HoldStatus, WindowHold
from .idempotency import STALE_AFTER
from .reactions import checkout_pick_job_create
from .windows import window_hold_release

logger = logging.getLogger(__name__)

reconciled = Counter(
    "reconcile_cases_total", "Work found between the cracks and re-driven or compensated", ["case"]
)
overdue_now = Gauge(
    "reconcile_orders_out_overdue",
    "Orders out for delivery long past their window, at the last reconciliation",
    multiprocess_mode="mostrecent",
)
BATCH = 500
CANCEL_REASON = "We could not deliver this order in its window; you have not been charged."
NOT_DISPATCHED = (
    ordering.OrderStatus.PLACED,
    ordering.OrderStatus.PICKING,
    ordering.OrderStatus.PACKED,
)


@dataclass
class Reconciled:
    """What one run found and did, by case."""

    cases: dict[str, int] = field(default_factory=dict)
    overdue: int = 0  # orders out for delivery long past their window (not acted on)

    def add(self, case: str, count: int) -> None:
        self.cases[case] = self.cases.get(case, 0) + count
        if count:
            reconciled.labels(case).inc(count)
            logger.warning("reconcile: %s %s", count, case)

    @property
    def total(self) -> int:
        return sum(self.cases.values())


def reconcile(*, now: datetime | None = None) -> Reconciled:
    """One pass over every case (module docstring). Returns the counts."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.RECONCILE_GRACE_SECONDS)
    since = now - timedelta(hours=settings.RECONCILE_LOOKBACK_HOURS)
    done = Reconciled()
    done.add("placed_without_pick_job", _pick_jobs_redriven(since, now - grace))
    done.add("packed_without_delivery", _packed_redriven(since, now - grace))
    done.add("holds_released", _failed_checkouts_released(since, now - max(grace, STALE_AFTER)))
    auth_grace = timedelta(seconds=settings.RECONCILE_AUTHORIZATION_GRACE_SECONDS)
    done.add(
        "authorizations_voided",
        ordering.authorizations_orphaned_void(created_before=now - auth_grace),
    )
    cancelled, overdue = _stuck_orders(now - timedelta(minutes=settings.RECONCILE_STUCK_MINUTES))
    done.add("orders_cancelled_late", cancelled)
    done.overdue = overdue
    overdue_now.set(overdue)
    return done


def _pick_jobs_redriven(since: datetime, until: datetime) -> int:
    placed = list(
        Checkout.objects.filter(
            status=CheckoutStatus.PLACED, updated_at__gte=since, updated_at__lt=until
        )
        .order_by("updated_at")
        .values_list("order_number", flat=True)[: BATCH * 10]
    )
    redriven = 0
    for start in range(0, len(placed), BATCH):
        numbers = placed[start : start + BATCH]
        have = fulfillment.pick_jobs_existing(order_refs=numbers)
        for number in numbers:
            if number not in have and checkout_pick_job_create(order_number=number):
                redriven += 1
    return redriven


def _packed_redriven(since: datetime, until: datetime) -> int:
    packed = fulfillment.pick_jobs_packed_between(since=since, until=until)
    dispatched = set(
        DeliveryJob.objects.filter(order_number__in=packed).values_list("order_number", flat=True)
    )
    redriven = 0
    for number in packed:
        if number not in dispatched and bus.redeliver(event_type=OrderPacked, order_ref=number):
            redriven += 1
    return redriven


def _failed_checkouts_released(since: datetime, until: datetime) -> int:
    """The holds of checkouts that failed, or died (still "started" long after), released."""
    failed = Checkout.objects.filter(
        updated_at__gte=since,
        updated_at__lt=until,
        status__in=(CheckoutStatus.FAILED, CheckoutStatus.STARTED),
    ).values_list("pk", "attempt")[: BATCH * 10]
    references = [
        f"checkout:{pk}:{attempt}" for pk, attempts in failed for attempt in range(1, attempts + 1)
    ]
    released = 0
    for start in range(0, len(references), BATCH):
        chunk = references[start : start + BATCH]
        for hold_id in WindowHold.objects.filter(
            reference__in=chunk, status=HoldStatus.HELD
        ).values_list("pk", flat=True):
            window_hold_release(hold_id=str(hold_id))
            released += 1
        released += fulfillment.stock_reservations_release_held(
            references=chunk, reason="checkout did not complete (reconciled)"
        )
    return released


def _stuck_orders(window_ended_before: datetime) -> tuple[int, int]:
    cancelled = 0
    for number in ordering.orders_past_window(
        ended_before=window_ended_before, statuses=NOT_DISPATCHED, limit=BATCH
    ):
        try:
            with transaction.atomic():
                ordering.order_cancel(number=number, reason=CANCEL_REASON)
            cancelled += 1
        except ApplicationError as error:  # moved on meanwhile (picked up, delivered)
            logger.info("reconcile: %s not cancelled: %s", number, error.message)
    overdue = ordering.orders_past_window(
        ended_before=window_ended_before,
        statuses=(ordering.OrderStatus.OUT_FOR_DELIVERY,),
        limit=BATCH,
    )
    for number in overdue:
        logger.error("reconcile: order %s is out for delivery long past its window", number)
    return cancelled, len(overdue)
