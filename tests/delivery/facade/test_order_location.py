"""Every order has a location: an address given only by postcode is placed at the postcode's
centre (fulfillment's postcode table), so the courier's geofence applies to it."""

import pytest

from fulfillment.models import PostcodeCentroid
from ordering import services as ordering

from .conftest import place

pytestmark = pytest.mark.django_db


def test_an_order_without_coordinates_is_located_at_its_postcodes_centre(world, shopper):
    PostcodeCentroid.objects.create(postcode="98101", lat=47.6114, lon=-122.3305)

    number = place(world, shopper, lat=None, lon=None).order_number

    delivery = ordering.order_get(number=number).delivery
    assert (delivery.lat, delivery.lon) == (47.6114, -122.3305)


def test_an_order_with_coordinates_keeps_them(world, shopper):
    PostcodeCentroid.objects.create(postcode="98101", lat=47.6114, lon=-122.3305)

    number = place(world, shopper, lat=47.62, lon=-122.34).order_number

    delivery = ordering.order_get(number=number).delivery
    assert (delivery.lat, delivery.lon) == (47.62, -122.34)


def test_a_postcode_missing_from_the_table_is_located_at_the_hubs_that_list_it(world, shopper):
    number = place(world, shopper, lat=None, lon=None).order_number

    delivery = ordering.order_get(number=number).delivery
    assert (delivery.lat, delivery.lon) == (
        round(world.hub.lat, 6),
        round(world.hub.lon, 6),
    )
