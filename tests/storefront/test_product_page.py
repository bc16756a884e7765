"""The product page is assembled from widgets; any one door failing leaves the page up."""

import threading
import time

import pytest
from django.core.cache import cache
from django.test import Client

from catalog import services as catalog
from delivery import services as delivery
from ordering import services as ordering
from prime_now.kernel.levers import lever_set
from prime_now.storefront import memo
from prime_now.storefront.assembly import DEGRADED_HEADER, lever_name

from .conftest import POSTCODE

PLACEHOLDERS = {
    "details": b"Product details are unavailable right now.",
    "price": b"Price unavailable right now",
    "availability": b"Availability can't be checked right now.",
    "windows": b"Delivery windows are unavailable right now.",
    "also_bought": b"Recommendations are unavailable right now.",
}


def down(*args, **kwargs):
    raise ConnectionError("the service behind this door is down")


def test_the_product_page_shows_every_widget_in_bounded_queries(
    visitor_at_home, shop, django_assert_max_num_queries
):
    product = shop.products[0]

    with django_assert_max_num_queries(7):
        response = visitor_at_home.get(f"/p/{product.sku}/")

    assert response.status_code == 200
    assert DEGRADED_HEADER not in response
    html = response.content.decode()
    assert f'<h1 id="product-title">{product.name}</h1>' in html
    assert "$2.50" in html
    assert "In stock for delivery" in html
    assert "one hour · $7.99" in html and "two hours · $4.99" in html


def test_a_second_view_reads_only_the_live_price(
    visitor_at_home, shop, django_assert_max_num_queries
):
    url = f"/p/{shop.products[0].sku}/"
    visitor_at_home.get(url)

    # The promise, details, stock and recommendations are remembered for a moment.
    with django_assert_max_num_queries(1):
        response = visitor_at_home.get(url)

    assert DEGRADED_HEADER not in response
    assert b"In stock for delivery" in response.content and b"$2.50" in response.content


def test_without_an_address_the_page_asks_for_one(visitor, shop):
    response = visitor.get(f"/p/{shop.products[0].sku}/")

    assert response.status_code == 200
    assert b"to see if we can deliver this within the hour" in response.content
    assert DEGRADED_HEADER not in response


def test_an_item_out_of_stock_at_the_hub_says_so(visitor_at_home, shop):
    response = visitor_at_home.get(f"/p/{shop.out_of_stock.sku}/")

    assert b"Not available at your address right now." in response.content


def test_an_unknown_product_is_a_404(visitor, shop):
    assert visitor.get("/p/NO-SUCH-SKU/").status_code == 404


@pytest.mark.parametrize(
    ("module", "door", "widgets"),
    [
        (catalog, "product_get", ["details"]),
        (catalog, "prices_for_skus", ["price"]),
        (delivery, "promise_for", ["availability", "windows", "next_window"]),
        (ordering, "customers_also_bought", ["also_bought"]),
    ],
)
def test_a_failing_door_degrades_only_its_widgets(
    visitor_at_home, shop, monkeypatch, module, door, widgets
):
    monkeypatch.setattr(module, door, down)
    cache.delete(f"sf:promise:{POSTCODE}")  # the edge's short caches would hide the outage
    memo.forget_all()

    response = visitor_at_home.get(f"/p/{shop.products[0].sku}/")

    assert response.status_code == 200
    assert response[DEGRADED_HEADER].split(", ") == widgets
    for name in widgets:
        if name in PLACEHOLDERS:
            assert PLACEHOLDERS[name] in response.content
    for name, placeholder in PLACEHOLDERS.items():
        if name not in widgets:
            assert placeholder not in response.content
    assert b"Add to cart" in response.content  # the shopper can still buy


def test_customers_also_bought_lists_what_others_bought(visitor, shop, monkeypatch):
    first, second, third = shop.products[:3]
    monkeypatch.setattr(
        ordering, "customers_also_bought", lambda *, sku, limit: (second.sku, third.sku)
    )

    html = visitor.get(f"/p/{first.sku}/").content.decode()

    assert "Customers also bought" in html
    assert f'href="/p/{second.sku}/"' in html and f'href="/p/{third.sku}/"' in html


def test_an_operator_lever_switches_a_widget_off_without_degrading(visitor, shop, monkeypatch):
    calls = []
    monkeypatch.setattr(ordering, "customers_also_bought", lambda **kw: calls.append(kw) or ())
    lever_set(lever_name("also_bought"), enabled=False, reason="test")

    response = visitor.get(f"/p/{shop.products[0].sku}/")

    assert response.status_code == 200
    assert calls == []
    assert DEGRADED_HEADER not in response
    assert b"Customers also bought" not in response.content


@pytest.mark.django_db(transaction=True)
def test_a_slow_door_is_cut_off_and_the_page_answers_in_time(monkeypatch):
    from .conftest import make_shop

    shop = make_shop(products=2)
    release = threading.Event()

    def slow_also_bought(**kwargs):
        release.wait(3)
        return ()

    monkeypatch.setattr(ordering, "customers_also_bought", slow_also_bought)
    client = Client()

    started = time.perf_counter()
    response = client.get(f"/p/{shop.products[0].sku}/")
    elapsed = time.perf_counter() - started
    release.set()

    assert response.status_code == 200
    assert response[DEGRADED_HEADER] == "also_bought"
    assert PLACEHOLDERS["also_bought"] in response.content
    assert shop.products[0].name.encode() in response.content
    assert elapsed < 1.5  # the widget's budget is 200 ms; the door would have taken 3 s
