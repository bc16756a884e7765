"""Substitutes on the storefront: chosen per line in the cart, answered on the order page."""

import pytest

from fulfillment import services as fulfillment
from ordering import services as ordering
from tests.fulfillment.factories import PickerFactory

from .conftest import APPROVED_CARD
from .test_checkout_and_orders import checkout_form

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_cart_offers_best_match_suggestions_and_no_substitute(visitor, shop):
    chips = shop.products[0]  # snacks: products 0, 2, 4
    visitor.post("/cart/add/", {"sku": chips.sku, "quantity": 1})

    html = visitor.get("/cart/").content.decode()

    assert f"If {chips.name} is out of stock" in html
    assert "Best match, picked by the shopper" in html
    assert f"Replace with {shop.products[2].name}" in html
    assert "No substitute: refund it" in html


def test_choosing_a_substitute_in_the_cart_saves_it_on_the_line(visitor, shop):
    chips, other = shop.products[0], shop.products[2]
    visitor.post("/cart/add/", {"sku": chips.sku, "quantity": 1})

    response = visitor.post(
        f"/cart/{chips.sku}/substitution/", {f"sub-{chips.sku}-choice": f"sku:{other.sku}"}
    )

    assert response.status_code == 302
    html = visitor.get("/cart/").content.decode()
    assert f'value="sku:{other.sku}" selected' in html


def test_a_choice_not_offered_is_refused_with_a_message(visitor, shop):
    chips = shop.products[0]
    visitor.post("/cart/add/", {"sku": chips.sku, "quantity": 1})

    response = visitor.post(
        f"/cart/{chips.sku}/substitution/", {f"sub-{chips.sku}-choice": "sku:NOPE-1"}, follow=True
    )

    assert "Choose one of the substitute options." in response.content.decode()


def place_and_substitute(signed_in, shop, shopper):
    """Check out chips (best match) and water; the picker swaps the chips."""
    chips, water = shop.products[0], shop.products[1]
    for product in (chips, water):
        signed_in.post("/cart/add/", {"sku": product.sku, "quantity": 1})
    response = signed_in.post("/checkout/", {**checkout_form(signed_in), "card": APPROVED_CARD})
    number = response["Location"].split("/")[2]
    picker = PickerFactory(hub=shop.hub)
    job = fulfillment.pick_job_claim_next(hub_code=shop.hub.code, picker_id=picker.pk)
    for line in job.lines:
        swap = line.sku == chips.sku
        fulfillment.pick_line_confirm(
            job_id=job.id,
            picker_id=picker.pk,
            sku=line.sku,
            picked_quantity=0 if swap else 1,
            substitute_quantity=1 if swap else 0,
        )
    fulfillment.pick_job_pack(job_id=job.id, picker_id=picker.pk, bags=1)
    return number, chips


def test_the_order_page_asks_about_a_picked_substitute(signed_in, shop, shopper):
    number, chips = place_and_substitute(signed_in, shop, shopper)

    html = signed_in.get(f"/orders/{number}/").content.decode()

    assert f"{chips.name} was out of stock" in html
    assert "Keep it?" in html
    assert 'name="decision" value="reject"' in html


def test_rejecting_on_the_order_page_lowers_the_total(signed_in, shop, shopper):
    number, chips = place_and_substitute(signed_in, shop, shopper)
    before = ordering.order_get(number=number)

    response = signed_in.post(
        f"/orders/{number}/substitutes/{chips.sku}/", {"decision": "reject"}, follow=True
    )

    after = ordering.order_get(number=number)
    html = response.content.decode()
    assert "it is not charged" in html and "Rejected: not charged." in html
    substitute = next(x for x in before.lines if x.sku == chips.sku)
    assert after.total == before.total - substitute.line_total
