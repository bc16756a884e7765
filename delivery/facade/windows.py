"""Delivery windows: reading, holding, booking, releasing, capacity and generation."""

import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from fulfillment import services as fulfillment
from prime_now.kernel.errors import ApplicationError, ValidationError

from ..models import HoldStatus, Window, WindowHold, WindowKind, WindowTemplate
from .dtos import GenerateReport, HeldSeat, WindowDTO
from .errors import (
    WindowClosedError,
    WindowFullError,
    WindowNotFoundError,
    WindowNotServedError,
)
from .promise_cache import promise_invalidate

logger = logging.getLogger(__name__)

HOLD_FOR = timedelta(minutes=10)


def window_dto(window: Window) -> WindowDTO:
    return WindowDTO(
        id=window.pk,
        hub_code=window.hub_code,
        kind=WindowKind(window.kind),
        start=window.start,
        end=window.end,
        fee=window.fee,
        free_above=window.free_above,
        capacity=window.capacity,
        booked=window.booked,
        available=window.available,
        cutoff_at=window.cutoff_at,
    )


def windows_open(
    *,
    hub_code: str,
    now: datetime | None = None,
    ends_after: datetime | None = None,
    days: int = 2,
) -> tuple[WindowDTO, ...]:
    """Windows still on sale at a hub (cut-off ahead, a seat free), earliest first."""
    now = now or timezone.now()
    rows = Window.objects.filter(
        hub_code=hub_code,
        cutoff_at__gt=now,
        start__lt=now + timedelta(days=days),
        capacity__gt=F("booked") + F("held"),
    )
    if ends_after is not None:
        rows = rows.filter(end__gte=ends_after)
    return tuple(window_dto(w) for w in rows.order_by("start", "kind"))


def _refusal(window_id: int, now: datetime, hub_code: str | None) -> ApplicationError:
    """Why the window could not be held: not found, closed, of another hub, or full."""
    window = Window.objects.filter(pk=window_id).first()
    if window is None:
        return WindowNotFoundError(fields={"window_id": window_id})
    if window.cutoff_at <= now:
        return WindowClosedError(fields={"window_id": window_id})
    if hub_code is not None and window.hub_code != hub_code:
        return WindowNotServedError(fields={"window_id": window_id, "hub_code": hub_code})
    promise_invalidate(hub_code=window.hub_code)  # someone was shown a window that is full
    return WindowFullError(fields={"window_id": window_id})


def window_hold(
    *,
    window_id: int,
    reference: str,
    hub_code: str | None = None,
    hold_for: timedelta = HOLD_FOR,
    now: datetime | None = None,
) -> HeldSeat:
    """Keep a seat in the window (of this hub, when given) for a checkout. One conditional
    UPDATE decides who gets the last seat (the window's check constraint stands behind it).
    Raises WindowNotFoundError, WindowClosedError, WindowNotServedError or WindowFullError."""
    now = now or timezone.now()
    hold_id = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            _HOLD,
            {
                "window": window_id,
                "hub": hub_code,
                "now": now,
                "hold": hold_id,
                "reference": reference,
                "expires": now + hold_for,
            },
        )
        row = cursor.fetchone()
    if row is None:
        raise _refusal(window_id, now, hub_code)
    return HeldSeat(hold_id=str(hold_id), window=_window_from_row(row))


def window_hold_confirm(*, hold_id: str, window_id: int) -> None:
    """The order is placed: the held seat becomes a booking. Idempotent. If the hold expired
    meanwhile, books a free seat again or raises WindowFullError. (Checkout books in its own
    statement, CONFIRM_HOLD_CTE, and comes here only when that found the hold expired.)"""
    with transaction.atomic():
        hold = WindowHold.objects.select_for_update().get(pk=hold_id)
        if hold.status == HoldStatus.CONFIRMED:
            return
        window = Window.objects.filter(pk=window_id)
        if hold.status == HoldStatus.HELD:
            window.update(held=F("held") - 1, booked=F("booked") + 1)
        elif not window.filter(capacity__gt=F("booked") + F("held")).update(booked=F("booked") + 1):
            raise WindowFullError(fields={"window_id": window_id})
        hold.status = HoldStatus.CONFIRMED
        hold.save(update_fields=["status", "updated_at"])


# --- Checkout's two window statements, hand-written (kept for speed, measured) -------------
# Each takes one round trip where the ORM takes four or five (BEGIN, UPDATE, INSERT, COMMIT and
# a SELECT for the hold; two UPDATEs for the booking). Measured back to back with
# benchmarks/delivery_checkout.py's in-process figure: the ORM versions took a checkout from
# about 5 to about 10 ms CPU. The correctness rule is the conditional UPDATE (and the window's
# check constraint), the same either way.

_WINDOW_COLUMNS = (
    "id", "hub_code", "kind", "start", "end", "fee", "free_above", "capacity", "booked", "held",
    "cutoff_at",
)  # fmt: skip
_WINDOW_LIST = ", ".join(f'"{column}"' for column in _WINDOW_COLUMNS)

# Take a seat, record the hold and read the window, in one statement (atomic on its own).
_HOLD = f"""
    WITH seat AS (
        UPDATE {Window._meta.db_table} SET held = held + 1
         WHERE id = %(window)s AND cutoff_at > %(now)s AND capacity > booked + held
           AND hub_code = COALESCE(%(hub)s, hub_code)
        RETURNING {_WINDOW_LIST}
    ),
    hold AS (
        INSERT INTO {WindowHold._meta.db_table}
               (id, window_id, reference, status, expires_at, created_at, updated_at)
        SELECT %(hold)s, seat.id, %(reference)s, '{HoldStatus.HELD}', %(expires)s, %(now)s,
               %(now)s
          FROM seat
    )
    SELECT {_WINDOW_LIST} FROM seat
"""

# The held seat becomes a booking: the head of a statement (WITH ...), so that checkout can
# record its placed order in the same one. Parameters `hold` and `now`; `seat` has a row when
# the hold was still held.
CONFIRM_HOLD_CTE = f"""
    hold AS (
        UPDATE {WindowHold._meta.db_table} SET status = '{HoldStatus.CONFIRMED}',
               updated_at = %(now)s
         WHERE id = %(hold)s AND status = '{HoldStatus.HELD}'
        RETURNING window_id
    ),
    seat AS (
        UPDATE {Window._meta.db_table} SET held = held - 1, booked = booked + 1
         WHERE id IN (SELECT window_id FROM hold)
        RETURNING id
    )
"""


def _window_from_row(row: tuple[Any, ...]) -> WindowDTO:
    return window_dto(Window(**dict(zip(_WINDOW_COLUMNS, row, strict=True))))


def window_hold_release(*, hold_id: str) -> None:
    """Give a held seat back (checkout failed). Idempotent; a confirmed hold is left alone."""
    with transaction.atomic():
        if WindowHold.objects.filter(pk=hold_id, status=HoldStatus.HELD).update(
            status=HoldStatus.RELEASED, updated_at=timezone.now()
        ):
            Window.objects.filter(holds__pk=hold_id).update(held=F("held") - 1)


def window_booking_release(*, window_id: int) -> None:
    """A placed order was cancelled: its seat is free again. Callers make this run once."""
    window = Window.objects.filter(pk=window_id, booked__gt=0)
    if window.update(booked=F("booked") - 1):
        hub_code = Window.objects.filter(pk=window_id).values_list("hub_code", flat=True).first()
        if hub_code:
            promise_invalidate(hub_code=hub_code)


def window_holds_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Release holds past their time limit (checkouts that never finished). Returns how many.
    Safe to run in parallel: rows being handled elsewhere are skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        holds = list(
            WindowHold.objects.select_for_update(skip_locked=True)
            .filter(status=HoldStatus.HELD, expires_at__lte=now)
            .values_list("pk", "window_id")[:limit]
        )
        if not holds:
            return 0
        WindowHold.objects.filter(pk__in=[pk for pk, _ in holds]).update(status=HoldStatus.EXPIRED)
        for window_id, count in sorted(Counter(w for _, w in holds).items()):
            Window.objects.filter(pk=window_id).update(held=F("held") - count)
    logger.info("delivery: %d window holds expired", len(holds))
    return len(holds)


def window_set_capacity(*, window_id: int, capacity: int) -> WindowDTO:
    """Change a live window's capacity; never below what is already booked or held."""
    if capacity < 0:
        raise ValidationError("Capacity cannot be negative.", fields={"capacity": capacity})
    with transaction.atomic():
        window = Window.objects.select_for_update().filter(pk=window_id).first()
        if window is None:
            raise WindowNotFoundError(fields={"window_id": window_id})
        taken = window.booked + window.held
        if capacity < taken:
            raise ValidationError(
                f"Capacity cannot go below the {taken} orders already booked or in checkout.",
                fields={"capacity": capacity, "taken": taken},
            )
        window.capacity = capacity
        window.save(update_fields=["capacity"])
    promise_invalidate(hub_code=window.hub_code)
    return window_dto(window)


def _local_starts(template: WindowTemplate, day: date, tz: ZoneInfo) -> Iterator[datetime]:
    # Every hour a window starts, whatever its length (two-hour windows overlap), so a customer
    # can always choose one starting within the hour.
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    for hour in range(template.start_hour, template.end_hour - template.hours + 1):
        yield midnight + timedelta(hours=hour)


def _template_windows(
    template: WindowTemplate, tz: ZoneInfo, days: int, now: datetime
) -> list[Window]:
    """The windows a template makes over the next `days` days, those still on sale at `now`."""
    today = now.astimezone(tz).date()
    rows = []
    for offset in range(days + 1):
        for start in _local_starts(template, today + timedelta(days=offset), tz):
            cutoff = start - timedelta(minutes=template.cutoff_minutes)
            if cutoff <= now:
                continue
            rows.append(
                Window(
                    hub_code=template.hub_code,
                    kind=template.kind,
                    start=start,
                    end=start + timedelta(hours=template.hours),
                    cutoff_at=cutoff,
                    fee=template.fee,
                    free_above=template.free_above,
                    capacity=template.capacity,
                    template=template,
                )
            )
    return rows


def windows_generate(
    *, days: int = 7, hub_codes: Iterable[str] | None = None, now: datetime | None = None
) -> GenerateReport:
    """Create the windows of the next `days` days (today included) from the active templates
    (of these hubs, or all). Idempotent: existing windows and their bookings stay as they are."""
    if days < 0:
        raise ValidationError("days cannot be negative.", fields={"days": days})
    now = now or timezone.now()
    hubs = {hub.code: hub for hub in fulfillment.hubs_active()}
    created, used, skipped = 0, set[str](), set[str]()
    templates = WindowTemplate.objects.filter(active=True).order_by("hub_code", "kind")
    if hub_codes is not None:
        templates = templates.filter(hub_code__in=list(hub_codes))
    for template in templates:
        hub = hubs.get(template.hub_code)
        if hub is None:
            skipped.add(template.hub_code)
            continue
        used.add(template.hub_code)
        rows = _template_windows(template, ZoneInfo(hub.timezone or "UTC"), days, now)
        before = Window.objects.filter(hub_code=template.hub_code, kind=template.kind).count()
        Window.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        after = Window.objects.filter(hub_code=template.hub_code, kind=template.kind).count()
        created += after - before
    for hub_code in used:
        promise_invalidate(hub_code=hub_code)
    return GenerateReport(
        created=created, hubs=tuple(sorted(used)), skipped_hubs=tuple(sorted(skipped))
    )


def window_templates_ensure(
    *, hub_codes: Iterable[str], defaults: dict[str, dict[str, Any]]
) -> int:
    """Create the missing templates (kind → field defaults) for these hubs; returns how many."""
    created = 0
    for hub_code in hub_codes:
        for kind, fields in defaults.items():
            _, was_created = WindowTemplate.objects.get_or_create(
                hub_code=hub_code, kind=kind, defaults=fields
            )
            created += was_created
    return created
