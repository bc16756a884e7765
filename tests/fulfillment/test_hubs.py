"""Which hub serves an address: nearest open hub serving the location or postcode."""

import datetime as dt

import pytest

from fulfillment import services
from fulfillment.services import AddressNotServedError, hub_codes_for_picker
from tests.fulfillment.factories import HubFactory, PickerFactory
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db
DAY = {d: (dt.time(7), dt.time(23)) for d in range(7)}
# Tuesday 2026-03-03 12:00 in Seattle (PST, UTC-8)
NOON = dt.datetime(2026, 3, 3, 20, 0, tzinfo=dt.UTC)
MIDNIGHT = dt.datetime(2026, 3, 4, 8, 30, tzinfo=dt.UTC)  # 00:30 local


def test_nearest_serving_hub_wins():
    HubFactory(code="far", lat=47.70, lon=-122.34, radius_km=20)
    HubFactory(code="near", lat=47.61, lon=-122.34, radius_km=20)
    assert services.hub_for_location(lat=47.612, lon=-122.335, at=NOON).code == "near"


def test_postcode_alone_finds_a_hub():
    HubFactory(code="pc", postcodes=["98109"], radius_km=0)
    assert services.hub_for_location(postcode=" 98109 ", at=NOON).code == "pc"


def test_outside_every_area_is_not_served():
    HubFactory(radius_km=3, postcodes=["98101"])
    with pytest.raises(AddressNotServedError) as raised:
        services.hub_for_location(lat=40.0, lon=-100.0, postcode="10001", at=NOON)
    assert raised.value.status == 422 and raised.value.fields["reason"] == "not_served"


def test_a_closed_hub_hands_over_to_an_open_one_or_says_when_it_opens():
    HubFactory(code="day", hours=DAY, lat=47.61, lon=-122.34)
    assert services.hub_for_location(lat=47.61, lon=-122.34, at=NOON).code == "day"
    with pytest.raises(AddressNotServedError) as raised:
        services.hub_for_location(lat=47.61, lon=-122.34, at=MIDNIGHT)
    assert isinstance(raised.value, services.HubClosedError)
    assert raised.value.fields["reason"] == "closed"
    assert raised.value.fields["next_open_at"].startswith("2026-03-04T07:00:00-08:00")
    HubFactory(code="night", lat=47.65, lon=-122.34, radius_km=20)  # open 24 h
    assert services.hub_for_location(lat=47.61, lon=-122.34, at=MIDNIGHT).code == "night"


def test_a_shift_past_midnight_belongs_to_the_day_it_starts():
    HubFactory(code="late", hours={1: (dt.time(20), dt.time(2))})  # Tuesday 20:00–02:00
    assert services.hub_for_location(postcode="98101", at=MIDNIGHT).code == "late"  # Wed 00:30


def test_inactive_hubs_serve_nobody():
    HubFactory(active=False)
    with pytest.raises(AddressNotServedError):
        services.hub_for_location(postcode="98101", at=NOON)


def test_a_hub_must_serve_somewhere_and_list_postcodes_as_strings():
    from django.core.exceptions import ValidationError

    hub = HubFactory.build(radius_km=0, postcodes=[])
    with pytest.raises(ValidationError):
        hub.clean()
    hub.postcodes = [98101]
    with pytest.raises(ValidationError):
        hub.clean()
    hub.postcodes = ["98101"]
    hub.clean()


def test_a_picker_works_at_every_hub_they_are_staff_of():
    # Given a picker on the staff of two hubs
    first, second = HubFactory(), HubFactory()
    picker = PickerFactory(hub=first)
    services.hub_staff_add(hub_code=second.code, user_id=picker.pk)

    # When asked where they pick, then both hubs are named
    assert hub_codes_for_picker(picker_id=picker.pk) == {first.code, second.code}


def test_hub_staff_without_the_picker_role_pick_nowhere():
    # Given a hub staff member who is not a picker
    hub = HubFactory()
    user = UserFactory()
    services.hub_staff_add(hub_code=hub.code, user_id=user.pk)

    # When asked where they pick, then nowhere
    assert hub_codes_for_picker(picker_id=user.pk) == frozenset()


def test_a_deactivated_picker_picks_nowhere():
    # Given a picker whose account was deactivated
    picker = PickerFactory()
    picker.is_active = False
    picker.save(update_fields=["is_active"])

    # When asked where they pick, then nowhere
    assert hub_codes_for_picker(picker_id=picker.pk) == frozenset()
