"""The public catalog API at /api/v1/catalog/."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.services import changes
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/catalog"


@pytest.fixture
def shelf(fruit, dairy, cleaning):
    ProductFactory(sku="F-1", name="Organic Bananas", brand="Dole", category=fruit, price="1.99")
    ProductFactory(sku="F-2", name="Gala Apples", brand="Orchard", category=fruit, price="3.49")
    ProductFactory(
        sku="D-1",
        name="Whole Milk",
        brand="Horizon",
        category=dairy,
        price="4.29",
        description="Goes well with bananas.",
    )
    ProductFactory(sku="H-1", name="Dish Soap", brand="Method", category=cleaning, price="3.99")


def skus(response):
    return [p["sku"] for p in response.json()["results"]]


def test_anyone_can_list_products_without_logging_in(api_client, shelf):
    response = api_client.get(f"{BASE}/products")

    assert response.status_code == 200
    assert skus(response) == ["H-1", "F-2", "F-1", "D-1"]  # by name
    first = response.json()["results"][2]
    assert first["price"] == "1.99" and first["currency"] == "USD"
    assert first["department"] == "groceries" and first["category"] == "fruit"


def test_search_ranks_name_matches_first(api_client, shelf):
    response = api_client.get(f"{BASE}/products", {"q": "bananas"})

    assert skus(response) == ["F-1", "D-1"]


def test_filters_combine(api_client, shelf):
    response = api_client.get(
        f"{BASE}/products",
        {"department": "groceries", "price_min": "2", "price_max": "4.29", "ordering": "-price"},
    )

    assert skus(response) == ["D-1", "F-2"]
    assert skus(api_client.get(f"{BASE}/products", {"category": "groceries/fruit"})) == [
        "F-2",
        "F-1",
    ]
    assert skus(api_client.get(f"{BASE}/products", {"brand": "METHOD"})) == ["H-1"]


def test_next_and_previous_links_walk_the_pages(api_client, shelf):
    first = api_client.get(f"{BASE}/products", {"page_size": 3, "ordering": "price"}).json()
    second = api_client.get(first["next"]).json()
    back = api_client.get(second["previous"]).json()

    assert [p["sku"] for p in first["results"]] == ["F-1", "F-2", "H-1"]
    assert [p["sku"] for p in second["results"]] == ["D-1"]
    assert second["next"] is None
    assert back["results"] == first["results"] and back["previous"] is None


def test_pages_are_stable_when_products_are_added_meanwhile(api_client, shelf, fruit):
    first = api_client.get(f"{BASE}/products", {"page_size": 2}).json()
    ProductFactory(sku="A-0", name="Apricots", category=fruit)

    second = api_client.get(first["next"]).json()

    assert [p["sku"] for p in second["results"]] == ["F-1", "D-1"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "popularity"}, "ordering"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1000"}, "page_size"),
        ({"page_size": "lots"}, "page_size"),
        ({"price_min": "-1"}, "price_min"),
        ({"price_min": "cheap"}, "price_min"),
        ({"price_min": "9", "price_max": "1"}, "price_min"),
        ({"category": "Not A Slug!"}, "category"),
        ({"cursor": "garbage"}, "cursor"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_query_parameters_get_400_in_the_error_shape(api_client, shelf, params, field):
    response = api_client.get(f"{BASE}/products", params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in {"invalid", "invalid_search"}
    assert error["message"]
    assert field in error["fields"]


def test_product_detail_by_sku(api_client, shelf):
    response = api_client.get(f"{BASE}/products/F-1")

    assert response.status_code == 200
    assert response.json()["name"] == "Organic Bananas"


def test_unknown_sku_is_404_in_the_error_shape(api_client, shelf):
    response = api_client.get(f"{BASE}/products/NOPE-9")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "product_not_found"


def test_departments_list_the_tree(api_client, shelf):
    response = api_client.get(f"{BASE}/departments")

    assert response.status_code == 200
    assert [d["slug"] for d in response.json()] == ["groceries", "household"]
    assert response.json()[0]["categories"][0] == {
        "slug": "fruit",
        "name": "Fruit",
        "path": "groceries/fruit",
    }


def test_suggest_returns_the_best_few_matches(api_client, shelf):
    response = api_client.get(f"{BASE}/products/suggest", {"q": "ban", "limit": 1})

    assert response.status_code == 200
    assert [p["sku"] for p in response.json()] == ["F-1"]


def test_suggest_requires_q(api_client, shelf):
    response = api_client.get(f"{BASE}/products/suggest")

    assert response.status_code == 400
    assert "q" in response.json()["error"]["fields"]


# --- HTTP caching --------------------------------------------------------------------------


def test_reads_are_publicly_cacheable_with_validators(api_client, shelf):
    response = api_client.get(f"{BASE}/products")

    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert response["ETag"].startswith('W/"')
    assert response["Last-Modified"]


def test_a_fresh_etag_gets_304_without_a_body(api_client, shelf):
    etag = api_client.get(f"{BASE}/products", {"q": "milk"})["ETag"]

    response = api_client.get(f"{BASE}/products", {"q": "milk"}, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""


def test_a_price_change_makes_the_old_etag_stale(api_client, shelf):
    etag = api_client.get(f"{BASE}/products/F-1")["ETag"]
    services.product_price_set(sku="F-1", price="2.49")

    response = api_client.get(f"{BASE}/products/F-1", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["price"] == "2.49"


def test_different_queries_have_different_etags(api_client, shelf):
    a = api_client.get(f"{BASE}/products", {"q": "milk"})["ETag"]
    b = api_client.get(f"{BASE}/products", {"q": "soap"})["ETag"]

    assert a != b


def test_errors_are_not_marked_cacheable(api_client, shelf):
    response = api_client.get(f"{BASE}/products", {"ordering": "nope"})

    assert "public" not in response.get("Cache-Control", "")


# --- cost ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [{}, {"q": "product"}])
def test_a_product_page_costs_the_same_queries_whatever_its_size(api_client, fruit, query):
    ProductFactory.create_batch(60, category=fruit)

    def count(size: int) -> int:
        changes.forget_last_modified()  # the worst case: the validator is looked up too
        with CaptureQueriesContext(connection) as queries:
            response = api_client.get(f"{BASE}/products", {"page_size": size, **query})
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        return len(queries)

    assert count(5) == count(50)
    assert count(5) <= 3


def test_the_product_shape_is_exactly_the_output_serializer(api_client, shelf):
    from dataclasses import asdict

    from catalog import services
    from catalog.api.serializers import ProductOutput

    body = api_client.get(f"{BASE}/products/F-1").json()

    assert body == ProductOutput(asdict(services.product_get(sku="F-1"))).data
    assert api_client.get(f"{BASE}/products", {"q": "apples"}).json()["results"] == [
        ProductOutput(asdict(services.product_get(sku="F-2"))).data
    ]
