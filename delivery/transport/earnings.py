"""What couriers earn: each trip with at least one delivery earns the block's base pay plus the
tips of the orders it delivered (delivery keeps each order's tip on its job). The earning is
written once, in the transaction that completes the trip; reports and payout statements add
them up by day or week (in UTC, the payout clock)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.db.models import Count, Sum

from ..models import BlockClaim, JobStatus, Trip, TripEarning
from .profiles import courier_for_user

ZERO = Decimal("0.00")


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class EarningsRow:
    """One day or week (starting Monday) of a courier's earnings."""

    period_start: date
    trips: int
    deliveries: int
    base_pay: Decimal
    tips: Decimal
    total: Decimal


@dataclass(frozen=True)
class StatementLine:
    """One courier's earnings between two dates, for a payout."""

    courier_id: int
    username: str
    trips: int
    deliveries: int
    base_pay: Decimal
    tips: Decimal
    total: Decimal


def trip_earning_record(trip: Trip) -> TripEarning | None:
    """The completed trip's earning (once; None when it delivered nothing)."""
    delivered = trip.jobs.filter(status=JobStatus.DELIVERED)
    sums = delivered.aggregate(n=Count("pk"), tips=Sum("tip"))
    if not sums["n"]:
        return None
    at = trip.picked_up_at or trip.created_at
    claim = (
        BlockClaim.objects.select_related("block")
        .filter(
            courier_id=trip.courier_id,
            block__hub_code=trip.hub_code,
            block__starts_at__lte=at,
            block__ends_at__gt=at,
        )
        .exclude(status=BlockClaim.Status.FORFEITED)
        .order_by("block__starts_at")
        .first()
    )
    base = claim.block.base_pay if claim else ZERO
    tips = sums["tips"] or ZERO
    earning, _created = TripEarning.objects.get_or_create(
        trip=trip,
        defaults={
            "courier_id": trip.courier_id,
            "block": claim.block if claim else None,
            "deliveries": sums["n"],
            "base_pay": base,
            "tips": tips,
            "total": base + tips,
            "earned_at": trip.completed_at or at,
        },
    )
    return earning


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, datetime.min.time(), tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
    )


def courier_earnings(
    *, user_id: int, period: Period, start: date, end: date
) -> tuple[tuple[EarningsRow, ...], EarningsRow]:
    """The courier's earnings per day or week from `start` to `end` (inclusive, UTC), with
    the total. Empty periods are listed with zeros."""
    courier = courier_for_user(user_id)
    since, until = _bounds(start, end)
    rows = TripEarning.objects.filter(
        courier=courier, earned_at__gte=since, earned_at__lt=until
    ).values_list("earned_at", "deliveries", "base_pay", "tips", "total")
    buckets: dict[date, list[Decimal | int]] = {}
    for day in _days(start, end):
        key = _period_start(day, period)
        buckets.setdefault(key, [0, 0, ZERO, ZERO, ZERO])
    for earned_at, deliveries, base, tips, total in rows:
        bucket = buckets.setdefault(
            _period_start(earned_at.astimezone(UTC).date(), period),
            [0, 0, ZERO, ZERO, ZERO],
        )
        for index, value in enumerate((1, deliveries, base, tips, total)):
            bucket[index] += value  # type: ignore[operator]
    out = tuple(EarningsRow(key, *values) for key, values in sorted(buckets.items()))  # type: ignore[arg-type]
    whole = EarningsRow(
        start,
        sum(r.trips for r in out),
        sum(r.deliveries for r in out),
        sum((r.base_pay for r in out), ZERO),
        sum((r.tips for r in out), ZERO),
        sum((r.total for r in out), ZERO),
    )
    return out, whole


def _period_start(day: date, period: Period) -> date:
    return day - timedelta(days=day.weekday()) if period == Period.WEEK else day


def earnings_statement(*, start: date, end: date) -> tuple[StatementLine, ...]:
    """Every courier's earnings from `start` to `end` (inclusive, UTC), for payouts."""
    since, until = _bounds(start, end)
    rows = (
        TripEarning.objects.filter(earned_at__gte=since, earned_at__lt=until)
        .values("courier_id", "courier__user__username")
        .annotate(
            trips=Count("pk"),
            deliveries=Sum("deliveries"),
            base=Sum("base_pay"),
            tips=Sum("tips"),
            total=Sum("total"),
        )
        .order_by("courier__user__username")
    )
    return tuple(
        StatementLine(
            courier_id=row["courier_id"],
            username=row["courier__user__username"],
            trips=row["trips"],
            deliveries=row["deliveries"],
            base_pay=row["base"],
            tips=row["tips"],
            total=row["total"],
        )
        for row in rows
    )
