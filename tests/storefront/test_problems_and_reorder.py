"""On the order page after delivery: report a problem with an item, buy the order again."""

import pytest

from ordering import services as ordering

from .conftest import APPROVED_CARD
from .test_checkout_and_orders import checkout_form, fill_cart
from .test_substitutions import place_and_substitute

pytestmark = pytest.mark.django_db(transaction=True)


def deliver(signed_in, shop, shopper):
    number, _chips = place_and_substitute(signed_in, shop, shopper)
    ordering.order_mark_out_for_delivery(number=number)
    return ordering.order_mark_delivered(number=number)


def test_a_delivered_order_offers_to_report_a_problem_and_buy_again(signed_in, shop, shopper):
    order = deliver(signed_in, shop, shopper)

    html = signed_in.get(f"/orders/{order.number}/").content.decode()

    assert "Report a problem" in html and "Buy these again" in html


def test_reporting_a_damaged_item_refunds_it(signed_in, shop, shopper):
    order = deliver(signed_in, shop, shopper)
    water = shop.products[1]

    response = signed_in.post(
        f"/orders/{order.number}/problems/{water.sku}/",
        {"kind": "damaged", "quantity": "1", "note": "leaking"},
        follow=True,
    )

    html = response.content.decode()
    assert f"we refunded {water.price} to your card" in html
    assert "Reported damaged: refunded" in html


def test_a_problem_without_a_kind_is_refused_with_a_message(signed_in, shop, shopper):
    order = deliver(signed_in, shop, shopper)

    response = signed_in.post(
        f"/orders/{order.number}/problems/{shop.products[1].sku}/", {"quantity": "1"}, follow=True
    )

    assert "Choose what went wrong and how many." in response.content.decode()


def test_buying_again_fills_the_cart(signed_in, shop, shopper):
    fill_cart(signed_in, shop, count=2)
    number = signed_in.post("/checkout/", {**checkout_form(signed_in), "card": APPROVED_CARD})[
        "Location"
    ].split("/")[2]

    response = signed_in.post(f"/orders/{number}/reorder/", follow=True)

    html = response.content.decode()
    assert f"The items of order {number} are in your cart." in html
    assert shop.products[0].name in html and shop.products[1].name in html
