"""Every figure the ops dashboard and the daily report show, read at once from the doors."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from delivery import services as delivery
from fulfillment import services as fulfillment
from insights import services as insights
from prime_now import metrics
from prime_now.kernel.breakers import breaker_states
from prime_now.kernel.bus import outbox_backlog
from prime_now.kernel.faults import faults_active
from prime_now.kernel.levers import lever_states

# What "the capacity ahead" of a hub's picking backlog counts: window seats starting this soon.
CAPACITY_AHEAD = timedelta(hours=2)


@dataclass(frozen=True)
class HubFigures:
    """One hub now: orders in progress by stage, its picking backlog against the window seats
    of the next two hours, couriers online against those its blocks want."""

    hub_code: str
    in_progress: dict[str, int]
    backlog: int
    seats_ahead: int
    couriers_online: int
    couriers_wanted: int


@dataclass(frozen=True)
class Figures:
    now: datetime
    drop_1h: insights.DropRate
    drop_24h: insights.DropRate
    hours: tuple[tuple[datetime, insights.DropRate], ...]
    reasons: tuple[insights.ReasonCount, ...]
    checkouts_per_minute: float  # attempts over the last 15 minutes
    checkout_p99_seconds: float | None  # from the checkout histogram (None: no checkout yet)
    hubs: tuple[HubFigures, ...]
    late_24h: int
    outbox_pending: int
    outbox_age_seconds: float
    queues: dict[str, int]
    levers_pulled: tuple[str, ...]
    faults_active: tuple[str, ...]  # injected faults (game days): "target kind[@hub]"
    breakers_open: tuple[str, ...]
    # Issue 18's dead letters are shown once that part exposes them.
    dead_letters: int | None = None


def _hub(hub_code: str, in_progress: dict[str, int], now: datetime) -> HubFigures:
    seats = sum(
        window.capacity
        for window in delivery.windows_open(hub_code=hub_code, now=now, days=1)
        if window.start <= now + CAPACITY_AHEAD
    )
    supply = delivery.courier_supply(hub_code=hub_code, now=now)
    return HubFigures(
        hub_code=hub_code,
        in_progress=in_progress,
        backlog=fulfillment.hub_backlog(hub_code=hub_code),
        seats_ahead=seats,
        couriers_online=supply.online,
        couriers_wanted=supply.wanted,
    )


def gather(*, since: timedelta = timedelta(hours=24), now: datetime | None = None) -> Figures:
    now = now or timezone.now()
    in_progress = insights.in_progress_by_stage()
    hub_codes = sorted({hub.code for hub in fulfillment.hubs_active()} | set(in_progress) - {""})
    day = insights.drop_rate(since=now - since, until=now)
    pending, age = outbox_backlog()
    recent = insights.drop_rate(since=now - timedelta(minutes=15), until=now)
    return Figures(
        now=now,
        drop_1h=insights.drop_rate(since=now - timedelta(hours=1), until=now),
        drop_24h=day,
        hours=insights.drop_rate_by_hour(since=now - since, until=now),
        reasons=insights.drop_reasons(since=now - since, until=now),
        checkouts_per_minute=recent.attempts / 15,
        checkout_p99_seconds=metrics.quantile("delivery_checkout_seconds", 0.99),
        hubs=tuple(_hub(code, in_progress.get(code, {}), now) for code in hub_codes),
        late_24h=day.reasons.get("late", 0),
        outbox_pending=pending,
        outbox_age_seconds=age,
        queues=metrics.queue_lengths(),
        levers_pulled=tuple(sorted(name for name, on in (lever_states() or {}).items() if not on)),
        faults_active=tuple(
            f"{fault.target} {fault.kind}" + (f"@{fault.hub_code}" if fault.hub_code else "")
            for fault in faults_active()
        ),
        breakers_open=tuple(
            sorted(name for name, state in breaker_states().items() if state != "closed")
        ),
    )
