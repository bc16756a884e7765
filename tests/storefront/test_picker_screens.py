"""The picker's screens: the next job, the pick list in walking order, confirm / short /
substitute with the barcode typed, pack with the bag count; only for pickers."""

import pytest

from fulfillment import services as fulfillment
from ordering import services as ordering
from tests.fulfillment.factories import PickerFactory
from tests.kernel.factories import UserFactory

from .conftest import APPROVED_CARD
from .test_checkout_and_orders import checkout_form, fill_cart

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def order_number(signed_in, shop):
    fill_cart(signed_in, shop, count=2)
    response = signed_in.post("/checkout/", {**checkout_form(signed_in), "card": APPROVED_CARD})
    return response["Location"].split("/")[2]


@pytest.fixture
def picker_client(client, shop):
    picker = PickerFactory(hub=shop.hub)
    client.force_login(picker)
    client.picker = picker
    return client


def start(picker_client, shop):
    response = picker_client.post("/picker/next/", {"hub": shop.hub.code})
    assert response.status_code == 302, response.content
    return response["Location"]


def test_the_picker_page_offers_the_next_job_at_their_hub(picker_client, shop, order_number):
    html = picker_client.get("/picker/").content.decode()

    assert f"Start the next job at {shop.hub.code}" in html
    assert f"Order {order_number}" in html


def test_starting_shows_the_pick_list_in_walking_order(picker_client, shop, order_number):
    job_url = start(picker_client, shop)

    html = picker_client.get(job_url).content.decode()
    job = fulfillment.pick_job_get(order_ref=order_number)
    positions = [html.index(f'data-sku="{line.sku}"') for line in job.lines]
    assert positions == sorted(positions)
    assert "Barcode (type the SKU)" in html


def test_a_wrong_barcode_is_refused_and_nothing_is_picked(picker_client, shop, order_number):
    job_url = start(picker_client, shop)
    first = fulfillment.pick_job_get(order_ref=order_number).lines[0]

    response = picker_client.post(
        f"{job_url}lines/{first.sku}/", {"barcode": "WRONG-1", "action": "confirm"}, follow=True
    )

    assert f"That barcode is not {first.sku}" in response.content.decode()
    assert fulfillment.pick_job_get(order_ref=order_number).lines[0].status == "pending"


def test_confirming_every_line_and_packing_packs_the_order(picker_client, shop, order_number):
    job_url = start(picker_client, shop)
    job = fulfillment.pick_job_get(order_ref=order_number)
    first, second = job.lines
    picker_client.post(
        f"{job_url}lines/{first.sku}/", {"barcode": first.sku.lower(), "action": "confirm"}
    )
    picker_client.post(f"{job_url}lines/{second.sku}/", {"action": "short", "picked": "0"})

    response = picker_client.post(f"{job_url}pack/", {"bags": "2"}, follow=True)

    assert f"Order {order_number} is packed in 2 bag(s)" in response.content.decode()
    order = ordering.order_get(number=order_number)
    assert order.status == ordering.OrderStatus.PACKED
    assert [line.missing_quantity for line in order.lines if line.sku == second.sku] == [1]


def test_packing_before_every_line_is_confirmed_is_refused(picker_client, shop, order_number):
    job_url = start(picker_client, shop)

    response = picker_client.post(f"{job_url}pack/", {"bags": "1"}, follow=True)

    assert "Confirm every line before packing." in response.content.decode()


def test_a_customer_is_not_let_in(client, shop):
    client.force_login(UserFactory(roles=["customer"]))

    response = client.get("/picker/")

    assert response.status_code == 403
    assert "This page is for hub pickers" in response.content.decode()


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get("/picker/")

    assert response.status_code == 302 and "/signin/?next=/picker/" in response["Location"]
