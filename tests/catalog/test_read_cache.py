"""The shared read cache of the catalog's public reads (catalog/services/readcache.py): pages of
product_search and the API's rendered bodies, keyed by the catalog's version."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import Product
from catalog.services import changes, readcache
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/catalog"
LISTING = f"{BASE}/products?department=groceries&page_size=24"
SEARCH = f"{BASE}/products?q=bananas"
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
    }
}


@pytest.fixture
def shelf(fruit, dairy):
    ProductFactory(sku="F-1", name="Organic Bananas", brand="Dole", category=fruit, price="1.99")
    ProductFactory(sku="F-2", name="Gala Apples", brand="Orchard", category=fruit, price="3.49")
    ProductFactory(sku="D-1", name="Whole Milk", brand="Horizon", category=dairy, price="4.29")


def read(client, url):
    """(body, queries) of a GET that also looks the catalog's version up (the worst case)."""
    changes.forget_last_modified()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.json(), len(queries)


def prices(body) -> dict[str, str]:
    return {p["sku"]: p["price"] for p in body["results"]}


@pytest.mark.parametrize(
    "url", [LISTING, SEARCH, f"{BASE}/products/suggest?q=ban", f"{BASE}/departments"]
)
def test_a_repeated_read_is_served_from_the_cache(api_client, shelf, url):
    first, queries_first = read(api_client, url)

    again, queries_again = read(api_client, url)

    assert again == first
    assert queries_again == 1  # only the version lookup; no search, no count, nothing else
    assert queries_again < queries_first


def test_a_price_change_makes_the_next_read_fresh(api_client, shelf):
    before, _ = read(api_client, LISTING)
    assert prices(before)["F-1"] == "1.99"

    services.product_price_set(sku="F-1", price=Decimal("2.49"))
    after, queries = read(api_client, LISTING)

    assert prices(after)["F-1"] == "2.49"
    assert queries >= 2  # searched again


def test_a_product_change_makes_the_next_read_fresh(api_client, shelf):
    assert "F-2" in prices(read(api_client, LISTING)[0])

    services.products_set_active(ids=[Product.objects.get(sku="F-2").id], active=False)

    assert "F-2" not in prices(read(api_client, LISTING)[0])


def test_a_write_that_does_not_move_the_last_change_still_makes_reads_fresh(
    api_client, shelf, django_capture_on_commit_callbacks
):
    """A transaction that started (and stamped updated_at) before another one committed can
    commit after it: the last change does not move, the generation does (after commit)."""
    read(api_client, LISTING)
    stamp_before = changes.catalog_last_modified()
    product = Product.objects.get(sku="F-1")

    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(id=product.id).update(price=Decimal("0.99"), updated_at=stamp_before)
        changes.publish_changes(product_ids=[product.id])
    after, _ = read(api_client, LISTING)

    assert changes.catalog_last_modified() == stamp_before
    assert prices(after)["F-1"] == "0.99"


def test_the_service_caches_pages_too_for_every_caller(shelf):
    page = services.product_search(department="groceries")
    changes.catalog_last_modified()  # the version is known: what remains is the search

    with CaptureQueriesContext(connection) as queries:
        again = services.product_search(department="groceries")

    assert again == page
    assert len(queries) == 0
    services.product_price_set(sku="F-1", price=Decimal("5.00"))
    fresh = services.product_search(department="groceries")
    assert {p.sku: p.price for p in fresh.items}["F-1"] == Decimal("5.00")


def test_pages_narrowed_to_product_ids_are_never_cached(shelf):
    ids = list(Product.objects.values_list("id", flat=True))
    services.product_search(product_ids=ids)
    changes.catalog_last_modified()

    with CaptureQueriesContext(connection) as queries:
        services.product_search(product_ids=ids)

    assert len(queries) == 1  # a hub's stock moves without the catalog changing


def test_different_arguments_never_share_an_entry(api_client, shelf):
    by_name = services.product_search(department="groceries", ordering="name")
    by_price = services.product_search(department="groceries", ordering="-price")
    cheap = services.product_search(department="groceries", price_max=Decimal("2.00"))

    assert [p.sku for p in by_name.items] == ["F-2", "F-1", "D-1"]
    assert [p.sku for p in by_price.items] == ["D-1", "F-2", "F-1"]
    assert [p.sku for p in cheap.items] == ["F-1"]


def test_bodies_keep_absolute_links_of_the_host_asked(api_client, fruit):
    ProductFactory.create_batch(3, category=fruit)
    url = f"{BASE}/products?page_size=2"

    a = api_client.get(url, HTTP_HOST="127.0.0.1").json()
    b = api_client.get(url, HTTP_HOST="localhost").json()

    assert a["next"].startswith("http://127.0.0.1/")
    assert b["next"].startswith("http://localhost/")


def test_a_bad_request_is_never_stored(api_client, shelf):
    url = f"{BASE}/products?ordering=nope"

    assert api_client.get(url).status_code == 400
    assert api_client.get(url).status_code == 400


def test_inside_a_transaction_the_cache_is_neither_read_nor_written(shelf):
    services.product_search(department="groceries")  # stored
    changes.catalog_last_modified()

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        Product.objects.filter(sku="F-1").update(price=Decimal("9.99"))  # not yet stamped
        inside = services.product_search(department="groceries")
        services.product_search(department="groceries")

    assert {p.sku: p.price for p in inside.items}["F-1"] == Decimal("9.99")
    assert len(queries) == 3  # the update and two searches: nothing came from the cache


@override_settings(CATALOG_CACHE_SECONDS=0)
def test_with_the_cache_off_every_read_searches(api_client, shelf):
    _, first = read(api_client, LISTING)
    _, again = read(api_client, LISTING)

    assert again == first >= 2


@override_settings(CACHES=UNREACHABLE_REDIS)
def test_with_the_cache_down_reads_are_still_correct(api_client, shelf):
    before, _ = read(api_client, LISTING)
    assert prices(before)["F-1"] == "1.99"
    assert not readcache.enabled()  # the failure was noticed: the cache is left alone a while

    services.product_price_set(sku="F-1", price=Decimal("2.49"))
    after, _ = read(api_client, LISTING)
    page = services.product_search(department="groceries")

    assert prices(after)["F-1"] == "2.49"
    assert {p.sku: p.price for p in page.items}["F-1"] == Decimal("2.49")
    assert api_client.get(SEARCH).json()["results"][0]["sku"] == "F-1"


@override_settings(CACHES=UNREACHABLE_REDIS)
def test_a_write_succeeds_with_the_cache_down(shelf):
    dto = services.product_price_set(sku="D-1", price=Decimal("4.59"))

    assert dto.price == Decimal("4.59")
    assert services.product_get(sku="D-1").price == Decimal("4.59")
