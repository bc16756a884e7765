"""Each storefront lever sheds its feature, and nothing else: the page still answers 200,
without a degraded header (an operator's choice is not a failure)."""

import pytest

from prime_now.kernel.levers import lever_set
from prime_now.kernel.models import User
from prime_now.storefront import levers
from prime_now.storefront.assembly import DEGRADED_HEADER

from .conftest import POSTCODE

pytestmark = pytest.mark.django_db


def pull(name: str) -> None:
    lever_set(name, enabled=False, reason="test")


def test_pulling_suggestions_empties_them_and_search_still_finds(visitor, shop):
    pull(levers.SEARCH_SUGGESTIONS)

    suggestions = visitor.get("/search/suggest/", {"q": "Spark"})
    results = visitor.get("/search/", {"q": "Sparkling"})

    assert suggestions.status_code == 200 and "/p/" not in suggestions.text
    assert results.status_code == 200 and "Sparkling Water 2" in results.text


def test_pulling_badges_lists_the_products_without_badges(visitor_at_home, shop):
    before = visitor_at_home.get("/d/groceries/")
    pull(levers.AVAILABILITY_BADGES)

    after = visitor_at_home.get("/d/groceries/")

    assert "Available to deliver" in before.text
    assert after.status_code == 200 and DEGRADED_HEADER not in after
    assert "Available to deliver" not in after.text and "Not available" not in after.text
    assert all(p.name in after.text for p in shop.products)
    assert "Next delivery" in after.text  # the header's banner is another lever


def test_pulling_the_next_window_banner_keeps_the_product_pages_windows(visitor_at_home, shop):
    pull(levers.NEXT_WINDOW)

    page = visitor_at_home.get(f"/p/{shop.products[0].sku}/")

    assert page.status_code == 200 and DEGRADED_HEADER not in page
    assert "Next delivery" not in page.text
    assert "Delivery times are unavailable" not in page.text
    assert '<ul class="windows">' in page.text  # the page's own windows widget still shows


def test_pulling_images_renders_the_product_without_its_picture(visitor, shop):
    product = shop.products[0]
    product.image_url = "https://img.example/apple.jpg"
    product.save()
    shown = visitor.get(f"/p/{product.sku}/")
    pull(levers.IMAGES)

    hidden = visitor.get(f"/p/{product.sku}/")

    assert "img.example/apple.jpg" in shown.text
    assert hidden.status_code == 200 and "img.example/apple.jpg" not in hidden.text
    assert product.name in hidden.text


def test_pulling_sign_ups_refuses_new_accounts_and_signing_in_still_works(visitor, shopper):
    pull(levers.SIGN_UPS)
    shopper.set_password("a-long-pass-phrase")
    shopper.save()

    page = visitor.get("/signup/")
    refused = visitor.post(
        "/signup/",
        {"username": "newbie", "email": "n@example.com", "password1": "x-Very-long-1",
         "password2": "x-Very-long-1"},
    )  # fmt: skip
    signed_in = visitor.post(
        "/signin/", {"username": shopper.username, "password": "a-long-pass-phrase"}
    )

    assert page.status_code == 200 and "paused" in page.text
    assert refused.status_code == 503 and not User.objects.filter(username="newbie").exists()
    assert signed_in.status_code == 302


def test_the_deliver_to_form_is_untouched_by_every_storefront_lever(visitor, shop):
    for name in (levers.ALSO_BOUGHT, levers.NEXT_WINDOW, levers.AVAILABILITY_BADGES):
        pull(name)

    response = visitor.post("/deliver-to/", {"postcode": POSTCODE, "address": "1 Pike St"})

    assert response.status_code == 302
