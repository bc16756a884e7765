"""The tracking page's map: hub, courier and address as SVG, projected onto a small square."""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from delivery import services as delivery
from ordering import services as ordering
from prime_now.storefront.tracking_map import MARGIN, SIZE, tracking_map
from prime_now.storefront.views import orders as orders_view

from .test_checkout_and_orders import place_order

HUB = (47.6101, -122.3421)
HOME = (47.6205, -122.3493)
COURIER = (47.6150, -122.3450)


def test_every_point_lands_inside_the_square_with_a_margin():
    drawn = tracking_map(hub=HUB, home=HOME, courier=COURIER, courier_name="Sam")

    assert {m.kind for m in drawn.markers} == {"hub", "home", "courier"}
    for m in drawn.markers:
        assert MARGIN - 1 <= m.x <= SIZE - MARGIN + 1 and MARGIN - 1 <= m.y <= SIZE - MARGIN + 1
    assert drawn.marker("courier").label == "Sam"


def test_north_is_up_and_east_is_right():
    drawn = tracking_map(hub=HUB, home=HOME, courier=None)

    hub, home = drawn.marker("hub"), drawn.marker("home")
    assert home.y < hub.y  # the address is north of the hub
    assert home.x < hub.x  # and west of it


def test_the_route_runs_hub_courier_home_and_the_description_gives_the_distance():
    drawn = tracking_map(hub=HUB, home=HOME, courier=COURIER, courier_name="Sam")

    assert drawn.route[0] == (drawn.marker("hub").x, drawn.marker("hub").y)
    assert drawn.route[-1] == (drawn.marker("home").x, drawn.marker("home").y)
    assert drawn.description.startswith("Sam is 0.")
    assert drawn.description.endswith("km from your address.")


def test_no_point_known_draws_no_map():
    assert tracking_map(hub=None, home=None, courier=None) is None


@pytest.mark.django_db
def test_the_tracking_panel_draws_the_hub_without_any_external_tile(signed_in, shop):
    number = place_order(signed_in, shop)

    html = signed_in.get(f"/orders/{number}/status/").content.decode()

    svg = html.split("<svg")[1].split("</svg>")[0]
    assert 'class="marker hub"' in svg and 'role="img"' in html
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.django_db
def test_out_for_delivery_the_panel_names_the_courier_gives_the_eta_and_draws_them(
    signed_in, shop, shopper, monkeypatch
):
    # Given an order its courier has picked up, 2 km from the door
    number = place_order(signed_in, shop)
    real = delivery.tracking_for(order_number=number, customer_id=shopper.pk)
    eta = timezone.now() + timedelta(minutes=12)
    on_the_way = dataclasses.replace(
        real,
        status=ordering.OrderStatus.OUT_FOR_DELIVERY,
        courier_name="Sam",
        courier_lat=COURIER[0],
        courier_lon=COURIER[1],
        eta=eta,
    )
    monkeypatch.setattr(orders_view.delivery, "tracking_for", lambda **kw: on_the_way)
    # When the panel refreshes
    html = signed_in.get(f"/orders/{number}/status/").content.decode()
    # Then it says who is coming and when, and draws the courier
    assert "Sam is on the way" in html and "expected at" in html
    assert 'class="marker courier"' in html and ">Sam</text>" in html
