"""Template helpers: money and delivery-window times in the hub's time zone."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def money(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def day_label(moment: datetime) -> str:
    """'Today', 'Tomorrow' or 'Wed 25 Nov' for an aware datetime, in its own time zone."""
    return _day(moment, timezone.now().astimezone(moment.tzinfo))


def _day(moment: datetime, now: datetime) -> str:
    if moment.date() == now.date():
        return "Today"
    if (moment.date() - now.date()).days == 1:
        return "Tomorrow"
    return formats.date_format(moment, "D j M")


@register.simple_tag
def window_time(window, promise) -> str:
    """'Today 14:00–15:00' in the hub's time zone."""
    tz = zoneinfo.ZoneInfo(getattr(promise, "tz", "UTC"))
    start, end = window.start.astimezone(tz), window.end.astimezone(tz)
    return f"{_day(start, timezone.now().astimezone(tz))} {start:%H:%M}–{end:%H:%M}"


@register.simple_tag
def local_time(moment: datetime | None, tz: str = "UTC") -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zoneinfo.ZoneInfo(tz or "UTC"))
    return f"{_day(local, timezone.now().astimezone(local.tzinfo))} {local:%H:%M}"


@register.simple_tag
def clock(moment: datetime | None, tz: str = "UTC") -> str:
    """'14:00' in the given time zone."""
    if moment is None:
        return ""
    return f"{moment.astimezone(zoneinfo.ZoneInfo(tz or 'UTC')):%H:%M}"
