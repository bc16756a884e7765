"""Browsing without JavaScript: home and address, listings with availability, search."""

import pytest

from prime_now.storefront import shopper
from prime_now.storefront.views import pages
from tests.fulfillment.factories import HubFactory

from .conftest import POSTCODE, UNSERVED


def test_home_lists_the_departments_in_bounded_queries(
    visitor, shop, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = visitor.get("/")

    assert response.status_code == 200
    assert b'href="/d/groceries/"' in response.content
    assert b"Set your delivery address" in response.content


def test_a_served_postcode_is_kept_and_the_header_shows_the_next_window(visitor, shop):
    response = visitor.post("/deliver-to/", {"postcode": " 98101 ", "address": "1 Pike St"})

    assert response.status_code == 302
    assert visitor.session[shopper.SESSION_ADDRESS] == {
        "postcode": POSTCODE,
        "address": "1 Pike St",
    }
    home = visitor.get("/").content.decode()
    assert "One-hour delivery is available to <strong>98101</strong>" in home
    assert 'class="next-window"' in home


def test_an_unserved_postcode_says_so_and_is_not_kept(visitor, shop):
    response = visitor.post("/deliver-to/", {"postcode": UNSERVED})

    assert response.status_code == 422
    assert b"we don&#x27;t deliver to 10001 yet" in response.content
    assert shopper.SESSION_ADDRESS not in visitor.session


def test_a_postcode_whose_hub_is_closed_is_kept_and_says_so(visitor, db):
    # Given the only hub for a postcode is closed today
    HubFactory(code="SHUT", postcodes=["98199"], hours={})

    # When a visitor sets that postcode
    response = visitor.post("/deliver-to/", {"postcode": "98199", "address": "1 Dock St"})

    # Then it is kept, and the next page says the hub is closed right now
    assert response.status_code == 302
    assert visitor.session[shopper.SESSION_ADDRESS]["postcode"] == "98199"
    assert "Our hub for 98199 is closed right now." in visitor.get("/").content.decode()


def test_a_malformed_postcode_is_refused_before_any_lookup(visitor, shop):
    response = visitor.post("/deliver-to/", {"postcode": "<script>"})

    assert response.status_code == 422
    assert b"Enter a postcode" in response.content


def test_a_listing_shows_the_department_in_bounded_queries(
    visitor_at_home, shop, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = visitor_at_home.get("/d/groceries/")

    assert response.status_code == 200
    for product in shop.products:
        assert product.name.encode() in response.content


def test_a_listing_marks_what_the_hub_cannot_deliver(visitor_at_home, shop):
    response = visitor_at_home.get("/d/groceries/").content.decode()

    truffle = response.split(f">{shop.out_of_stock.name}</a>")[1].split("</article>")[0]
    assert "Not available at your address" in truffle
    assert "to cart" not in truffle


def test_a_listing_can_show_only_what_the_hub_can_deliver(visitor_at_home, shop):
    response = visitor_at_home.get("/d/groceries/", {"deliverable": "on"})

    assert shop.out_of_stock.name.encode() not in response.content
    assert shop.products[0].name.encode() in response.content


def test_a_listing_filters_by_category_and_price(visitor, shop):
    response = visitor.get("/d/groceries/", {"category": "drinks", "price_max": "5.00"})

    names = [p.name for p in shop.products if p.category.slug == "drinks" and p.price <= 5]
    assert names
    for product in shop.products:
        assert (product.name.encode() in response.content) == (product.name in names)


def test_a_listing_refuses_a_price_range_upside_down(visitor, shop):
    response = visitor.get("/d/groceries/", {"price_min": "9", "price_max": "1"})

    assert b"at least the minimum" in response.content


def test_a_listing_pages_with_next_and_previous_links(visitor, shop, monkeypatch):
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)

    first = visitor.get("/d/groceries/", {"ordering": "price"}).content.decode()
    next_href = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = visitor.get(f"/d/groceries/{next_href}").content.decode()

    assert shop.products[0].name in first and shop.products[0].name not in second
    assert shop.products[2].name in second
    assert 'rel="prev"' in second


def test_an_unknown_department_is_a_friendly_404(visitor, shop):
    response = visitor.get("/d/no-such-thing/")

    assert response.status_code == 404
    assert b"find that page" in response.content


def test_search_finds_products_by_name(visitor, shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = visitor.get("/search/", {"q": "apple chips"})

    assert response.status_code == 200
    assert shop.products[0].name.encode() in response.content
    assert shop.products[1].name.encode() not in response.content


def test_suggestions_are_links_to_products(visitor, shop):
    response = visitor.get("/search/suggest/", {"q": "Spark"})

    assert response.status_code == 200
    assert f'href="/p/{shop.products[1].sku}/"'.encode() in response.content
    assert b'role="option"' in response.content


def test_one_letter_gets_no_suggestions(visitor, shop, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = visitor.get("/search/suggest/", {"q": "s"})

    assert response.content.strip() == b""


@pytest.mark.parametrize("path", ["/", "/d/groceries/", "/search/?q=water"])
def test_pages_send_a_strict_content_security_policy(visitor, shop, path):
    policy = visitor.get(path)["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_the_address_form_never_redirects_off_site(visitor, shop):
    response = visitor.post(
        "/deliver-to/", {"postcode": POSTCODE, "next": "https://evil.example/phish"}
    )

    assert response["Location"] == "/"


def test_a_broken_page_shows_a_friendly_500(shop, monkeypatch):
    from django.test import Client

    from ordering import services as ordering

    monkeypatch.setattr(ordering, "cart_get", lambda **kw: 1 / 0)
    client = Client(raise_request_exception=False)

    response = client.get("/cart/")

    assert response.status_code == 500
    assert b"Sorry, something went wrong on our side" in response.content
    assert b"Traceback" not in response.content
