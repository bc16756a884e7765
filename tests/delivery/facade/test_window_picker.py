"""window_picker: the soonest window with a seat, the next few of each kind, the rest by day."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from delivery import services as delivery
from delivery.models import WindowKind
from tests.delivery.facade.factories import WindowFactory
from tests.fulfillment.factories import HubFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub(db):
    return HubFactory(code="SEA-PK", timezone="America/Los_Angeles")


def two_days_of_windows(hub_code: str) -> None:
    """Every hour round the clock for two days, one-hour and two-hour: 96 windows, the first
    starting at least an hour from now so that its 15-minute cut-off has not passed whatever
    the minute the test runs at."""
    first = (timezone.now() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    for h in range(48):
        start = first + timedelta(hours=h)
        WindowFactory(hub_code=hub_code, kind=WindowKind.ONE_HOUR, start=start, fee=Decimal("7.99"))
        WindowFactory(
            hub_code=hub_code,
            kind=WindowKind.TWO_HOUR,
            start=start,
            end=start + timedelta(hours=2),
            fee=Decimal("4.99"),
            free_above=Decimal("35.00"),
        )


def test_the_soonest_window_with_a_seat_comes_first_and_a_full_one_is_marked(hub):
    full = WindowFactory(hub_code=hub.code, capacity=2, booked=2)
    later = WindowFactory(hub_code=hub.code, start=full.start + timedelta(hours=1))

    picker = delivery.window_picker(hub_code=hub.code, subtotal=Decimal("10"))

    assert picker.soonest.window.id == later.id and not picker.soonest.full
    full_choices = [c for d in picker.days for c in d.choices if c.window.id == full.id]
    assert full_choices and full_choices[0].full


def test_after_the_soonest_come_three_more_of_each_kind_then_the_rest_by_day(hub):
    two_days_of_windows(hub.code)

    picker = delivery.window_picker(hub_code=hub.code, subtotal=Decimal("10"))

    kinds = [c.window.kind for c in picker.next]
    assert kinds.count(WindowKind.ONE_HOUR) == 3 and kinds.count(WindowKind.TWO_HOUR) == 3
    assert [c.window.start for c in picker.next] == sorted(c.window.start for c in picker.next)
    assert 1 + len(picker.next) <= 12
    assert picker.count == 96
    assert len(picker.days) in (2, 3)  # two days of windows span two or three local days


def test_the_fee_is_for_this_basket_free_above_the_windows_minimum(hub):
    WindowFactory(
        hub_code=hub.code,
        kind=WindowKind.TWO_HOUR,
        fee=Decimal("4.99"),
        free_above=Decimal("35.00"),
    )

    assert delivery.window_picker(hub_code=hub.code, subtotal=Decimal("34.99")).soonest.fee == (
        Decimal("4.99")
    )
    assert delivery.window_picker(hub_code=hub.code, subtotal=Decimal("35")).soonest.fee == 0


def test_windows_past_their_cutoff_or_ending_before_the_earliest_delivery_are_left_out(hub):
    early = WindowFactory(hub_code=hub.code)
    WindowFactory(
        hub_code=hub.code,
        start=early.start - timedelta(hours=1),
        cutoff_at=timezone.now() - timedelta(minutes=1),
    )
    late = WindowFactory(hub_code=hub.code, start=early.start + timedelta(hours=3))

    picker = delivery.window_picker(
        hub_code=hub.code, subtotal=Decimal("10"), ends_after=early.end + timedelta(minutes=1)
    )

    assert picker.soonest.window.id == late.id and picker.count == 1


def test_the_api_offers_the_same_grouping(api_client, hub):
    two_days_of_windows(hub.code)

    body = api_client.get(
        "/api/v1/delivery/window-picker", {"postcode": "98101", "subtotal": "40.00"}
    ).json()

    assert body["available"] is True and body["hub_code"] == hub.code
    assert body["soonest"]["full"] is False and body["soonest"]["window"]["id"]
    assert len(body["next"]) == 6
    assert sum(len(d["choices"]) for d in body["days"]) == 96 - 7
    assert {c["fee"] for c in body["next"] if c["window"]["kind"] == "two_hour"} == {"0.00"}


def test_the_api_says_when_an_address_is_not_served(api_client, hub):
    body = api_client.get("/api/v1/delivery/window-picker", {"postcode": "10001"}).json()

    assert body["available"] is False and body["soonest"] is None and body["message"]
