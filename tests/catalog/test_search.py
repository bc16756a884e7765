"""product_search / product_suggest: matching, ranking, filters, ordering and cursor pages."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.services import InvalidSearchError
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


def skus(page):
    return [p.sku for p in page.items]


@pytest.fixture
def assortment(fruit, dairy, cleaning):
    return {
        "bananas": ProductFactory(
            sku="F-1",
            name="Organic Bananas",
            brand="Dole",
            category=fruit,
            price="1.99",
            description="Sweet and ripe.",
        ),
        "apples": ProductFactory(
            sku="F-2",
            name="Gala Apples",
            brand="Orchard Lane",
            category=fruit,
            price="3.49",
            description="Crisp apples.",
        ),
        "milk": ProductFactory(
            sku="D-1",
            name="Whole Milk",
            brand="Horizon",
            category=dairy,
            price="4.29",
            description="Fresh whole milk.",
        ),
        "yogurt": ProductFactory(
            sku="D-2",
            name="Greek Yogurt",
            brand="Fage",
            category=dairy,
            price="5.99",
            description="Thick yogurt, great with bananas.",
        ),
        "spray": ProductFactory(
            sku="H-1",
            name="All-Purpose Spray",
            brand="Method",
            category=cleaning,
            price="6.49",
            description="Cleans kitchens.",
        ),
    }


# --- matching ------------------------------------------------------------------------------


def test_a_word_finds_products_naming_it_before_those_describing_it(assortment):
    page = services.product_search(query="bananas")

    assert skus(page) == ["F-1", "D-2"]


def test_ranking_puts_name_matches_above_brand_matches_above_description_matches(fruit):
    ProductFactory(sku="DESC", name="Plain Crackers", brand="Acme", description="Try with kiwi.")
    ProductFactory(sku="NAME", name="Golden Kiwi", brand="Zespri", category=fruit)
    ProductFactory(sku="BRAND", name="Fruit Cup", brand="Kiwi Farms", description="Mixed.")

    assert skus(services.product_search(query="kiwi")) == ["NAME", "BRAND", "DESC"]


def test_every_word_of_the_query_must_match(assortment):
    assert skus(services.product_search(query="organic bananas")) == ["F-1"]
    assert skus(services.product_search(query="greek bananas")) == ["D-2"]


def test_the_word_being_typed_matches_as_a_prefix(assortment):
    assert skus(services.product_search(query="bana")) == ["F-1", "D-2"]
    assert skus(services.product_search(query="whole mi")) == ["D-1"]


def test_a_misspelt_word_still_finds_the_product(assortment):
    assert "F-1" in skus(services.product_search(query="bananna"))
    assert skus(services.product_search(query="yoghurt"))[:1] == ["D-2"]


def test_a_query_matching_nothing_gives_an_empty_page(assortment):
    page = services.product_search(query="zzzqqq")

    assert page == services.ProductPage(items=(), next_cursor=None, previous_cursor=None)


def test_punctuation_in_the_query_is_ignored_not_an_error(assortment):
    assert skus(services.product_search(query="  milk!!) & | :* ")) == ["D-1"]


def test_inactive_products_are_never_listed(assortment):
    assortment["milk"].active = False
    assortment["milk"].save()

    assert skus(services.product_search(query="milk")) == []
    assert "D-1" not in skus(services.product_search(page_size=100))


def test_search_follows_a_renamed_product_because_the_vector_is_kept_by_the_database(
    assortment,
):
    from catalog.models import Product

    Product.objects.filter(sku="F-2").update(name="Honeycrisp Apples")

    assert skus(services.product_search(query="honeycrisp")) == ["F-2"]


# --- filters -------------------------------------------------------------------------------


def test_filter_by_department(assortment):
    assert set(skus(services.product_search(department="household"))) == {"H-1"}


def test_filter_by_category_slug_or_path(assortment):
    assert set(skus(services.product_search(category="dairy"))) == {"D-1", "D-2"}
    assert set(skus(services.product_search(category="groceries/dairy"))) == {"D-1", "D-2"}


def test_filter_by_brand_ignores_case(assortment):
    assert skus(services.product_search(brand="horizon")) == ["D-1"]


def test_filter_by_price_range_is_inclusive(assortment):
    page = services.product_search(price_min=Decimal("3.49"), price_max=Decimal("4.29"))

    assert set(skus(page)) == {"F-2", "D-1"}


def test_filter_by_product_ids_narrows_to_those_products(assortment):
    ids = {assortment["milk"].id, assortment["bananas"].id}

    assert set(skus(services.product_search(product_ids=ids))) == {"D-1", "F-1"}
    assert skus(services.product_search(query="bananas", product_ids=ids)) == ["F-1"]


def test_many_product_ids_travel_as_one_array_parameter(assortment):
    # given a hub's stock of thousands of product ids, one of them in the catalog
    ids = [assortment["milk"].id, *range(10**6, 10**6 + 5000)]

    # when a page is narrowed to them
    with CaptureQueriesContext(connection) as queries:
        page = services.product_search(product_ids=ids)

    # then it lists that product, from one query holding the ids in one array
    assert skus(page) == ["D-1"]
    assert len(queries) == 1
    assert '"catalog_product"."id" = ANY(' in queries[0]["sql"]


def test_an_empty_product_id_set_lists_nothing(assortment):
    assert skus(services.product_search(product_ids=set())) == []


def test_filters_combine_with_the_query(assortment):
    assert skus(
        services.product_search(query="bananas", department="groceries", category="fruit")
    ) == ["F-1"]


# --- ordering ------------------------------------------------------------------------------


def test_without_a_query_relevance_lists_by_name(assortment):
    names = [p.name for p in services.product_search().items]

    assert names == sorted(names)


def test_order_by_price_both_ways(assortment):
    up = [p.price for p in services.product_search(ordering="price").items]
    down = [p.price for p in services.product_search(ordering="-price").items]

    assert up == sorted(up) and down == sorted(down, reverse=True) and len(up) == 5


# --- cursor pages --------------------------------------------------------------------------


def walk(**kwargs):
    seen, cursor = [], None
    while True:
        page = services.product_search(page_size=2, cursor=cursor, **kwargs)
        seen.extend(skus(page))
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("ordering", ["relevance", "name", "price", "-price"])
def test_walking_the_pages_lists_every_product_once_in_order(assortment, ordering):
    everything = skus(services.product_search(ordering=ordering, page_size=100))

    assert walk(ordering=ordering) == everything
    assert len(everything) == 5


def test_walking_search_results_pages_in_rank_order(fruit):
    for n in range(7):
        ProductFactory(sku=f"T-{n}", name=f"Tea {n}" if n % 2 else f"Box of tea {n}")

    assert walk(query="tea") == skus(services.product_search(query="tea", page_size=100))


def test_first_page_has_no_previous_and_last_page_no_next(assortment):
    first = services.product_search(page_size=2)
    last = services.product_search(
        page_size=2,
        cursor=services.product_search(page_size=2, cursor=first.next_cursor).next_cursor,
    )

    assert first.previous_cursor is None and first.next_cursor
    assert len(last.items) == 1 and last.next_cursor is None and last.previous_cursor


def test_previous_cursor_goes_back_to_the_same_page(assortment):
    first = services.product_search(page_size=2, ordering="price")
    second = services.product_search(page_size=2, ordering="price", cursor=first.next_cursor)

    back = services.product_search(page_size=2, ordering="price", cursor=second.previous_cursor)

    assert back.items == first.items
    assert back.previous_cursor is None
    assert back.next_cursor


def test_a_product_added_before_the_cursor_does_not_shift_the_next_page(assortment, fruit):
    first = services.product_search(page_size=2, ordering="name")
    expected = services.product_search(page_size=2, ordering="name", cursor=first.next_cursor)

    ProductFactory(sku="A-0", name="AAA First Product", category=fruit)
    again = services.product_search(page_size=2, ordering="name", cursor=first.next_cursor)

    assert again.items == expected.items


def test_product_suggest_returns_the_best_few_matches_for_a_prefix(assortment):
    suggestions = services.product_suggest(prefix="ba", limit=1)

    assert [p.sku for p in suggestions] == ["F-1"]
    assert services.product_suggest(prefix="  ") == ()


# --- bad parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ordering": "popularity"}, "ordering"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"price_min": Decimal("-1")}, "price_min"),
        ({"price_min": Decimal("NaN")}, "price_min"),
        ({"price_max": Decimal("Infinity")}, "price_max"),
        ({"price_min": Decimal("5"), "price_max": Decimal("2")}, "price_min"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJvIjoibmFtZSJ9"}, "cursor"),  # valid base64 JSON, wrong shape
    ],
)
def test_bad_parameters_raise_invalid_search_naming_the_field(kwargs, field):
    with pytest.raises(InvalidSearchError) as caught:
        services.product_search(**kwargs)

    assert caught.value.code == "invalid_search"
    assert field in caught.value.fields


def test_a_cursor_of_another_ordering_is_refused(assortment):
    by_name = services.product_search(page_size=2, ordering="name")

    with pytest.raises(InvalidSearchError):
        services.product_search(page_size=2, ordering="price", cursor=by_name.next_cursor)


def test_searchable_attributes_are_matched_below_the_name(fruit):
    ProductFactory(sku="ATTR", name="Oat Drink", attributes={"dietary": "vegan"}, category=fruit)
    ProductFactory(sku="NAME", name="Vegan Cheese", category=fruit)

    assert skus(services.product_search(query="vegan")) == ["NAME", "ATTR"]


def test_singular_and_plural_find_each_other(fruit):
    ProductFactory(sku="JAM", name="Strawberry Jam", category=fruit)
    ProductFactory(sku="BLUE", name="Fresh Blueberries", category=fruit)

    assert skus(services.product_search(query="strawberries")) == ["JAM"]
    assert skus(services.product_search(query="blueberry")) == ["BLUE"]


def test_pulling_the_typo_lever_drops_the_typo_pass_only(assortment):
    from catalog.levers import TYPO_SEARCH
    from prime_now.kernel.levers import lever_set

    lever_set(TYPO_SEARCH, enabled=False, reason="test")

    assert skus(services.product_search(query="bananna")) == []
    assert skus(services.product_search(query="bana")) == ["F-1", "D-2"]
