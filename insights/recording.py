"""Following each attempt from the facts the apps publish. Every fact may come late, twice or
before the one it follows (handlers run on a queue): each function finds or creates the row,
locks it, and only moves it forward.

A drop's reason is final once set, except `lost` (no progress past the window's end plus
LOST_AFTER), which a later end of the order (delivered late, failed, cancelled) replaces.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ordering import services as ordering

from .metrics import ATTEMPTS, DROPS
from .models import Attempt, Outcome, Stage

LOST_AFTER = timedelta(minutes=60)
ORDER = list(Stage.values)


def _reached(attempt: Attempt, stage: Stage) -> None:
    if ORDER.index(stage) > ORDER.index(attempt.stage):
        attempt.stage = stage


def _drop(attempt: Attempt, reason: str, stage: str, at: datetime) -> None:
    """Mark the attempt dropped for this reason, unless an earlier reason stands."""
    if attempt.outcome == Outcome.DROPPED and attempt.drop_reason != "lost":
        return
    if attempt.outcome != Outcome.DROPPED:
        DROPS.labels(reason=reason, stage=stage).inc()
    attempt.outcome = Outcome.DROPPED
    attempt.drop_reason, attempt.drop_stage, attempt.dropped_at = reason, stage, at


def refused(*, reference: str, hub_code: str, reason: str, at: datetime) -> None:
    """A checkout attempt refused: dropped at checkout for the error's code."""
    with transaction.atomic():
        attempt, created = Attempt.objects.select_for_update().get_or_create(
            reference=reference, defaults={"hub_code": hub_code, "attempted_at": at}
        )
        if created:
            ATTEMPTS.labels(hub=hub_code or "none").inc()
            _drop(attempt, reason, Stage.CHECKOUT, at)
            attempt.save()


def _order_attempt(order_number: str) -> Attempt:
    """The order's attempt, locked; created from ordering's record when this is the first
    fact about it."""
    found = Attempt.objects.select_for_update().filter(reference=order_number).first()
    if found is not None:
        return found
    order = ordering.order_get(number=order_number)
    attempt, created = Attempt.objects.select_for_update().get_or_create(
        reference=order_number,
        defaults={
            "order_number": order_number,
            "hub_code": order.delivery.hub_code,
            "attempted_at": order.placed_at,
            "placed_at": order.placed_at,
            "window_end": order.delivery.window_end,
            "stage": Stage.PLACED,
        },
    )
    if created:
        ATTEMPTS.labels(hub=attempt.hub_code or "none").inc()
    return attempt


def placed(*, order_number: str) -> None:
    with transaction.atomic():
        _order_attempt(order_number)


def status_changed(*, order_number: str, status: ordering.OrderStatus, at: datetime) -> None:
    """Move the attempt along; an end (delivered, failed) settles its outcome."""
    S = ordering.OrderStatus
    with transaction.atomic():
        attempt = _order_attempt(order_number)
        if status == S.PICKING:
            _reached(attempt, Stage.PICKING)
        elif status == S.PACKED:
            _reached(attempt, Stage.PACKED)
            attempt.packed_at = attempt.packed_at or at
        elif status == S.OUT_FOR_DELIVERY:
            _reached(attempt, Stage.OUT_FOR_DELIVERY)
            attempt.out_at = attempt.out_at or at
        elif status == S.DELIVERED:
            _reached(attempt, Stage.DELIVERED)
            attempt.delivered_at = attempt.delivered_at or at
            if attempt.window_end is not None and at > attempt.window_end:
                _drop(attempt, "late", Stage.DELIVERED, at)
            elif attempt.outcome == Outcome.IN_PROGRESS or attempt.drop_reason == "lost":
                attempt.outcome = Outcome.DELIVERED
                attempt.drop_reason = attempt.drop_stage = ""
                attempt.dropped_at = None
        elif status == S.DELIVERY_FAILED:
            _drop(attempt, "delivery_failed", Stage.OUT_FOR_DELIVERY, at)
        attempt.save()


def cancelled(*, order_number: str, by: str, at: datetime) -> None:
    """Cancelled by the customer, an operator or the system, at the stage it had reached."""
    with transaction.atomic():
        attempt = _order_attempt(order_number)
        _drop(attempt, f"cancelled_by_{by or 'system'}", attempt.stage, at)
        attempt.save()


def packed_short(*, order_number: str, at: datetime) -> None:
    """Packed with a line neither picked in full nor made up by a substitute."""
    with transaction.atomic():
        attempt = _order_attempt(order_number)
        _reached(attempt, Stage.PACKED)
        _drop(attempt, "short_picked", Stage.PICKING, at)
        attempt.save()


def mark_lost(*, now: datetime | None = None) -> int:
    """Attempts still in progress LOST_AFTER past their window's end are dropped as lost at
    the stage they stopped at; returns how many."""
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        stuck = Attempt.objects.select_for_update(skip_locked=True).filter(
            outcome=Outcome.IN_PROGRESS, window_end__lt=now - LOST_AFTER
        )
        for attempt in stuck:
            _drop(attempt, "lost", attempt.stage, now)
            attempt.save()
            count += 1
    return count
