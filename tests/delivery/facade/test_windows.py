from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery.facade.windows import (
    window_hold,
    window_hold_confirm,
    window_hold_release,
    window_holds_expire,
    window_set_capacity,
    windows_generate,
)
from delivery.models import HoldStatus, Window, WindowHold, WindowKind
from delivery.services import WindowClosedError, WindowFullError, WindowNotServedError
from prime_now.kernel.errors import ValidationError
from tests.fulfillment.factories import HubFactory

from .factories import WindowFactory, WindowTemplateFactory

pytestmark = pytest.mark.django_db


def test_a_hold_takes_a_seat_until_it_is_confirmed_as_a_booking():
    window = WindowFactory(capacity=2)

    hold_id = window_hold(window_id=window.pk, reference="r1").hold_id
    window.refresh_from_db()
    assert (window.held, window.booked) == (1, 0)

    window_hold_confirm(hold_id=hold_id, window_id=window.pk)
    window_hold_confirm(hold_id=hold_id, window_id=window.pk)  # idempotent
    window.refresh_from_db()
    assert (window.held, window.booked) == (0, 1)


def test_a_hold_gives_the_window_as_it_stands_with_the_seat_held():
    window = WindowFactory(capacity=3, booked=1)

    seat = window_hold(window_id=window.pk, reference="r1")

    assert (seat.window.id, seat.window.hub_code) == (window.pk, window.hub_code)
    assert (seat.window.booked, seat.window.available) == (1, 1)


def test_a_window_of_another_hub_is_not_held_for_this_one():
    window = WindowFactory(capacity=3, hub_code="NORTH")

    with pytest.raises(WindowNotServedError):
        window_hold(window_id=window.pk, reference="r1", hub_code="SOUTH")

    window.refresh_from_db()
    assert window.held == 0
    assert not WindowHold.objects.exists()


def test_the_last_seat_goes_to_one_hold_and_the_next_is_told_the_window_is_full():
    window = WindowFactory(capacity=1)
    window_hold(window_id=window.pk, reference="r1")

    with pytest.raises(WindowFullError):
        window_hold(window_id=window.pk, reference="r2")


def test_a_window_past_its_cutoff_cannot_be_held():
    start = timezone.now() + timedelta(minutes=5)
    window = WindowFactory(start=start, cutoff_at=start - timedelta(minutes=10))

    with pytest.raises(WindowClosedError):
        window_hold(window_id=window.pk, reference="r1")


def test_releasing_a_hold_frees_the_seat_once():
    window = WindowFactory(capacity=1)
    hold_id = window_hold(window_id=window.pk, reference="r1").hold_id

    window_hold_release(hold_id=hold_id)
    window_hold_release(hold_id=hold_id)

    window.refresh_from_db()
    assert window.held == 0
    window_hold(window_id=window.pk, reference="r2")


def test_expired_holds_are_released_and_live_ones_kept():
    window = WindowFactory(capacity=5)
    now = timezone.now()
    window_hold(window_id=window.pk, reference="old", hold_for=timedelta(minutes=1), now=now)
    window_hold(window_id=window.pk, reference="new", hold_for=timedelta(minutes=30), now=now)

    expired = window_holds_expire(now=now + timedelta(minutes=5))

    window.refresh_from_db()
    assert expired == 1
    assert window.held == 1
    assert WindowHold.objects.get(reference="old").status == HoldStatus.EXPIRED


def test_confirming_an_expired_hold_books_a_free_seat_again():
    window = WindowFactory(capacity=1)
    now = timezone.now()
    hold_id = window_hold(
        window_id=window.pk, reference="r1", hold_for=timedelta(seconds=1), now=now
    ).hold_id
    window_holds_expire(now=now + timedelta(minutes=1))

    window_hold_confirm(hold_id=hold_id, window_id=window.pk)

    window.refresh_from_db()
    assert (window.held, window.booked) == (0, 1)


def test_confirming_an_expired_hold_when_the_seat_was_taken_says_full():
    window = WindowFactory(capacity=1)
    now = timezone.now()
    hold_id = window_hold(
        window_id=window.pk, reference="r1", hold_for=timedelta(seconds=1), now=now
    ).hold_id
    window_holds_expire(now=now + timedelta(minutes=1))
    window_hold(window_id=window.pk, reference="r2")

    with pytest.raises(WindowFullError):
        window_hold_confirm(hold_id=hold_id, window_id=window.pk)


def test_capacity_can_change_live_but_never_below_what_is_taken():
    window = WindowFactory(capacity=3)
    window_hold(window_id=window.pk, reference="r1")
    window_hold(window_id=window.pk, reference="r2")

    assert window_set_capacity(window_id=window.pk, capacity=5).available == 3
    with pytest.raises(ValidationError):
        window_set_capacity(window_id=window.pk, capacity=1)


def test_the_database_refuses_more_bookings_than_capacity():
    window = WindowFactory(capacity=1, booked=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Window.objects.filter(pk=window.pk).update(held=1)


def test_generation_makes_one_and_two_hour_windows_from_templates_idempotently():
    hub = HubFactory(timezone="UTC")
    WindowTemplateFactory(hub_code=hub.code, kind=WindowKind.ONE_HOUR, start_hour=8, end_hour=12)
    WindowTemplateFactory(hub_code=hub.code, kind=WindowKind.TWO_HOUR, start_hour=8, end_hour=12)
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)

    first = windows_generate(days=1, now=midnight)
    second = windows_generate(days=1, now=midnight)

    # per day: 4 one-hour (8, 9, 10, 11) + 3 overlapping two-hour (8, 9, 10); today and tomorrow
    assert first.created == 14
    assert second.created == 0
    starts = Window.objects.filter(hub_code=hub.code, kind=WindowKind.TWO_HOUR).values_list(
        "start", flat=True
    )
    assert sorted(s.hour for s in starts) == [8, 8, 9, 9, 10, 10]


def test_generation_skips_windows_whose_sales_already_closed():
    hub = HubFactory(timezone="UTC")
    WindowTemplateFactory(hub_code=hub.code, start_hour=0, end_hour=24, cutoff_minutes=15)
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)

    windows_generate(days=0, now=noon)

    assert Window.objects.filter(hub_code=hub.code).count() == 11  # 13:00 ... 23:00


def test_generate_windows_command_fails_on_templates_of_unknown_hubs():
    WindowTemplateFactory(hub_code="nowhere")

    with pytest.raises(CommandError, match="nowhere"):
        call_command("generate_windows", "--days", "1")


def test_pulling_windows_ahead_skips_the_periodic_generation_only():
    from delivery.levers import WINDOWS_AHEAD
    from delivery.tasks.facade import generate_windows
    from prime_now.kernel.levers import lever_set

    hub = HubFactory(timezone="UTC")
    WindowTemplateFactory(hub_code=hub.code, start_hour=0, end_hour=24)
    lever_set(WINDOWS_AHEAD, enabled=False, reason="test")

    skipped = generate_windows(days=1)
    by_hand = windows_generate(days=1).created

    assert skipped == 0 and by_hand > 0
