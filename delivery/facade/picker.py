"""The window picker: a hub's windows grouped the way a shopper chooses one.

The soonest window with a seat first ("Arrives by 21:00, $7.99"), then the next few one-hour
and two-hour windows, then the rest by day (the hub's local days) for day tabs. Full windows
stay in the list, marked full, so a shopper sees the slot exists but is taken. The storefront's
checkout and the API (`GET /api/v1/delivery/window-picker`) show the same grouping.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from fulfillment import services as fulfillment

from ..models import Window, WindowKind
from .dtos import WindowDTO
from .windows import window_dto

NEXT_PER_KIND = 3  # after the soonest: this many more one-hour and two-hour windows
DAYS = 3


@dataclass(frozen=True)
class WindowChoiceDTO:
    """A window as a choice: its fee for this basket, and whether it is full."""

    window: WindowDTO
    fee: Decimal
    full: bool


@dataclass(frozen=True)
class WindowDayDTO:
    """The windows of one local day (for a day tab), earliest first."""

    day: date
    choices: tuple[WindowChoiceDTO, ...]


@dataclass(frozen=True)
class WindowPickerDTO:
    """A hub's windows for a basket: the soonest with a seat, the next few, the rest by day."""

    hub_code: str
    timezone: str
    soonest: WindowChoiceDTO | None
    next: tuple[WindowChoiceDTO, ...]
    days: tuple[WindowDayDTO, ...]

    @property
    def count(self) -> int:
        return (self.soonest is not None) + len(self.next) + sum(len(d.choices) for d in self.days)


def windows_offered(
    *, hub_code: str, now: datetime, ends_after: datetime | None, days: int = DAYS
) -> tuple[WindowDTO, ...]:
    """Windows of a hub still before their cut-off, full or not, earliest first."""
    rows = Window.objects.filter(
        hub_code=hub_code, cutoff_at__gt=now, start__lt=now + timedelta(days=days)
    )
    if ends_after is not None:
        rows = rows.filter(end__gte=ends_after)
    return tuple(window_dto(w) for w in rows.order_by("start", "kind"))


def window_picker(
    *,
    hub_code: str,
    subtotal: Decimal,
    ends_after: datetime | None = None,
    now: datetime | None = None,
) -> WindowPickerDTO:
    """The hub's windows for a basket of this subtotal (fees waived above `free_above`),
    grouped for choosing: `soonest` (the first with a seat), `next` (up to three more of each
    kind, by start), `days` (the rest, per local day). `ends_after`: the earliest delivery the
    promise gave, so windows that end before it are left out."""
    now = now or timezone.now()
    tz = fulfillment.hub_get(code=hub_code).timezone
    choices = [
        WindowChoiceDTO(window=w, fee=w.fee_for(subtotal), full=w.available <= 0)
        for w in windows_offered(hub_code=hub_code, now=now, ends_after=ends_after)
    ]
    soonest = next((c for c in choices if not c.full), None)
    rest = [c for c in choices if c is not soonest]
    shown: list[WindowChoiceDTO] = []
    for kind in (WindowKind.ONE_HOUR, WindowKind.TWO_HOUR):
        shown += [c for c in rest if c.window.kind == kind and not c.full][:NEXT_PER_KIND]
    shown.sort(key=lambda c: (c.window.start, c.window.kind))
    zone = ZoneInfo(tz)
    by_day: dict[date, list[WindowChoiceDTO]] = {}
    for choice in rest:
        if choice not in shown:
            by_day.setdefault(choice.window.start.astimezone(zone).date(), []).append(choice)
    return WindowPickerDTO(
        hub_code=hub_code,
        timezone=tz,
        soonest=soonest,
        next=tuple(shown),
        days=tuple(WindowDayDTO(day=d, choices=tuple(cs)) for d, cs in sorted(by_day.items())),
    )
