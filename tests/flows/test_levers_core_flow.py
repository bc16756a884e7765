"""Whatever lever is pulled, the core flow still works: browse, cart, checkout, dispatch."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from delivery.models import Offer
from prime_now.kernel.levers import declared, lever_set
from tests.delivery.transport.support import make_courier, packed_order
from tests.kernel.factories import UserFactory
from tests.storefront.conftest import POSTCODE, make_shop

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lever", sorted(declared()))
def test_with_any_lever_pulled_browse_cart_checkout_and_dispatch_still_work(
    lever, django_capture_on_commit_callbacks
):
    shop = make_shop(products=2)
    product = shop.products[0]
    lever_set(lever, enabled=False, reason="test")
    visitor = Client()
    visitor.force_login(UserFactory(roles=["customer"]))

    assert (
        visitor.post("/deliver-to/", {"postcode": POSTCODE, "address": "1 Pike St"}).status_code
        == 302
    )
    for url in ("/", "/d/groceries/", "/search/?q=Sparkling", f"/p/{product.sku}/"):
        page = visitor.get(url)
        assert page.status_code == 200 and "X-Degraded-Widgets" not in page, url
    assert visitor.post("/cart/add/", {"sku": product.sku, "quantity": 1}).status_code == 302
    assert product.name in visitor.get("/cart/").text

    api = APIClient()
    api.force_authenticate(UserFactory(roles=["customer"]))
    checkout = api.post(
        "/api/v1/checkout",
        {"lines": [{"sku": product.sku, "quantity": 1}], "address": "1 Pike St",
         "postcode": POSTCODE, "window_id": shop.windows[0].pk, "payment_token": "tok_visa"},
        format="json",
        headers={"Idempotency-Key": f"core-{lever}"},
    )  # fmt: skip
    assert checkout.status_code == 201, checkout.json()

    courier = make_courier(shop.hub, at=(shop.hub.lat, shop.hub.lon))
    number = packed_order(
        shop.hub, door=(shop.hub.lat, shop.hub.lon), capture=django_capture_on_commit_callbacks
    )
    assert Offer.objects.filter(job__order_number=number, courier__user=courier).exists()
