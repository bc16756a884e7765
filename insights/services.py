"""The insights door: the order drop rate, its reasons, the funnel per hub and hour, and the
stage latencies, read from the attempts table (see docs/operations.md#the-order-drop-rate).

The denominator is every checkout attempt with a well-formed basket (refused or placed);
an attempt is dropped when it does not end delivered within its window."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from .models import Attempt, Outcome, Stage
from .recording import LOST_AFTER

__all__ = [
    "DropRate",
    "FunnelRow",
    "LOST_AFTER",
    "Outcome",
    "ReasonCount",
    "Stage",
    "StageLatency",
    "drop_rate",
    "drop_rate_by_hour",
    "drop_reasons",
    "funnel",
    "in_progress_by_stage",
    "stage_latencies",
]


@dataclass(frozen=True)
class DropRate:
    """Attempts in a period, how many were dropped, and why (reason -> count)."""

    attempts: int
    dropped: int
    reasons: dict[str, int]

    @property
    def rate(self) -> float:
        """Dropped / attempts (0 when there was no attempt)."""
        return self.dropped / self.attempts if self.attempts else 0.0


@dataclass(frozen=True)
class ReasonCount:
    """How many attempts one reason dropped at one stage and hub."""

    reason: str
    stage: str
    hub_code: str
    count: int


@dataclass(frozen=True)
class FunnelRow:
    """One hub's hour: attempts and how many reached each step."""

    hub_code: str
    hour: datetime
    attempts: int
    placed: int
    packed: int
    out_for_delivery: int
    delivered: int
    on_time: int
    dropped: int


@dataclass(frozen=True)
class StageLatency:
    """A stage's duration in seconds over the period: how many, p50, p90, p99."""

    stage: str
    count: int
    p50: float
    p90: float
    p99: float


def _period(
    since: datetime, until: datetime | None, hub_code: str | None = None
) -> QuerySet[Attempt]:
    rows = Attempt.objects.filter(attempted_at__gte=since, attempted_at__lt=until or timezone.now())
    return rows.filter(hub_code=hub_code) if hub_code is not None else rows


def drop_rate(
    *, since: datetime, until: datetime | None = None, hub_code: str | None = None
) -> DropRate:
    """The drop rate of the attempts made in [since, until) (at one hub, or all)."""
    rows = _period(since, until, hub_code)
    totals = rows.aggregate(
        attempts=Count("pk"), dropped=Count("pk", filter=Q(outcome=Outcome.DROPPED))
    )
    reasons = dict(
        rows.filter(outcome=Outcome.DROPPED)
        .values_list("drop_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "drop_reason")
    )
    return DropRate(attempts=totals["attempts"], dropped=totals["dropped"], reasons=reasons)


def drop_reasons(*, since: datetime, until: datetime | None = None) -> tuple[ReasonCount, ...]:
    """The drops of the period by reason, stage and hub, most frequent first."""
    rows = (
        _period(since, until)
        .filter(outcome=Outcome.DROPPED)
        .values("drop_reason", "drop_stage", "hub_code")
        .annotate(n=Count("pk"))
        .order_by("-n", "drop_reason", "hub_code")
    )
    return tuple(
        ReasonCount(
            reason=r["drop_reason"], stage=r["drop_stage"], hub_code=r["hub_code"], count=r["n"]
        )
        for r in rows
    )


def _reached(stage: Stage) -> Q:
    later = list(Stage.values)[list(Stage.values).index(stage) :]
    return Q(stage__in=later)


def funnel(*, since: datetime, until: datetime | None = None) -> tuple[FunnelRow, ...]:
    """Per hub and hour of attempt: attempts, and how many were placed, packed, sent out,
    delivered, delivered on time (kept) and dropped."""
    rows = (
        _period(since, until)
        .annotate(hour=TruncHour("attempted_at"))
        .values("hub_code", "hour")
        .annotate(
            attempts=Count("pk"),
            placed=Count("pk", filter=_reached(Stage.PLACED)),
            packed=Count("pk", filter=_reached(Stage.PACKED)),
            out_for_delivery=Count("pk", filter=_reached(Stage.OUT_FOR_DELIVERY)),
            delivered=Count("pk", filter=_reached(Stage.DELIVERED)),
            on_time=Count("pk", filter=Q(outcome=Outcome.DELIVERED)),
            dropped=Count("pk", filter=Q(outcome=Outcome.DROPPED)),
        )
        .order_by("hour", "hub_code")
    )
    return tuple(FunnelRow(**row) for row in rows)


def drop_rate_by_hour(
    *, since: datetime, until: datetime | None = None
) -> tuple[tuple[datetime, DropRate], ...]:
    """Each hour of the period with its attempts and drops by reason (for charts)."""
    rows = (
        _period(since, until)
        .annotate(hour=TruncHour("attempted_at"))
        .values("hour", "outcome", "drop_reason")
        .annotate(n=Count("pk"))
        .order_by("hour")
    )
    hours: dict[datetime, dict[str, int]] = {}
    attempts: dict[datetime, int] = {}
    for row in rows:
        attempts[row["hour"]] = attempts.get(row["hour"], 0) + row["n"]
        reasons = hours.setdefault(row["hour"], {})
        if row["outcome"] == Outcome.DROPPED:
            reasons[row["drop_reason"]] = reasons.get(row["drop_reason"], 0) + row["n"]
    return tuple(
        (hour, DropRate(attempts=attempts[hour], dropped=sum(r.values()), reasons=r))
        for hour, r in hours.items()
    )


def in_progress_by_stage() -> dict[str, dict[str, int]]:
    """Orders not ended yet, per hub and the stage they are at."""
    found: dict[str, dict[str, int]] = {}
    rows = (
        Attempt.objects.filter(outcome=Outcome.IN_PROGRESS)
        .values("hub_code", "stage")
        .annotate(n=Count("pk"))
        .order_by("hub_code", "stage")
    )
    for row in rows:
        found.setdefault(row["hub_code"], {})[row["stage"]] = row["n"]
    return found


# Each stage a customer feels: from which timestamp to which.
LATENCY_STAGES = {
    "placed_to_packed": ("placed_at", "packed_at"),
    "packed_to_out": ("packed_at", "out_at"),
    "out_to_delivered": ("out_at", "delivered_at"),
    "window_end_to_delivered": ("window_end", "delivered_at"),
}


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def stage_latencies(*, since: datetime, until: datetime | None = None) -> tuple[StageLatency, ...]:
    """p50/p90/p99 of each stage over the orders attempted in the period, in seconds
    (`window_end_to_delivered` is negative when delivered before the window's end)."""
    found = []
    for stage, (start, end) in LATENCY_STAGES.items():
        durations = [
            (finished - started).total_seconds()
            for started, finished in _period(since, until)
            .filter(**{f"{start}__isnull": False, f"{end}__isnull": False})
            .values_list(start, end)
        ]
        found.append(
            StageLatency(
                stage=stage,
                count=len(durations),
                p50=_percentile(durations, 0.5),
                p90=_percentile(durations, 0.9),
                p99=_percentile(durations, 0.99),
            )
        )
    return tuple(found)
