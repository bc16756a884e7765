"""The catalog door: lookups by SKU, prices and the department tree."""

from decimal import Decimal

import pytest

from catalog import services
from tests.catalog.factories import CategoryFactory, DepartmentFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_product_get_returns_a_dto_with_slugs_of_its_category_and_department(fruit):
    product = ProductFactory(sku="PN-000001", name="Bananas", category=fruit, price="1.99")

    dto = services.product_get(sku="PN-000001")

    assert isinstance(dto, services.ProductDTO)
    assert (dto.id, dto.name, dto.department, dto.category) == (
        product.id,
        "Bananas",
        "groceries",
        "fruit",
    )
    assert dto.price == Decimal("1.99") and dto.currency == "USD"


def test_product_get_returns_inactive_products_marked_inactive():
    ProductFactory(sku="OLD-1", active=False)

    assert services.product_get(sku="OLD-1").active is False


def test_product_get_unknown_sku_raises_product_not_found():
    with pytest.raises(services.ProductNotFoundError) as caught:
        services.product_get(sku="NOPE-1")

    assert caught.value.code == "product_not_found"
    assert caught.value.status == 404
    assert caught.value.fields == {"sku": "NOPE-1"}


def test_products_by_skus_maps_sku_to_dto():
    a = ProductFactory(sku="A-1")

    assert services.products_by_skus(skus=["A-1", "B-2"]) == {
        "A-1": services.product_get(sku="A-1")
    }
    assert services.products_by_skus(skus=["A-1"])["A-1"].id == a.id


def test_prices_for_skus_gives_decimal_prices_of_active_products_only():
    ProductFactory(sku="A-1", price="3.5")
    ProductFactory(sku="B-2", price="4.00", active=False)

    prices = services.prices_for_skus(skus=["A-1", "B-2", "C-3"])

    assert prices == {"A-1": Decimal("3.50")}
    assert str(prices["A-1"]) == "3.50"


def test_department_tree_lists_departments_and_categories_in_display_order():
    household = DepartmentFactory(slug="household", name="Household", position=2)
    groceries = DepartmentFactory(slug="groceries", name="Groceries", position=1)
    CategoryFactory(department=groceries, slug="snacks", name="Snacks", position=2)
    CategoryFactory(department=groceries, slug="fruit", name="Fruit", position=1)
    CategoryFactory(department=household, slug="cleaning", name="Cleaning", position=1)

    tree = services.department_tree()

    assert [d.slug for d in tree] == ["groceries", "household"]
    assert tree[0].categories == (
        services.CategoryDTO(slug="fruit", name="Fruit", path="groceries/fruit"),
        services.CategoryDTO(slug="snacks", name="Snacks", path="groceries/snacks"),
    )
    assert tree[1].categories[0].path == "household/cleaning"


def test_department_without_categories_is_listed_with_none():
    DepartmentFactory(slug="seasonal", name="Seasonal")

    assert services.department_tree()[0].categories == ()


def test_dtos_are_frozen():
    dto = services.product_get(sku=ProductFactory().sku)

    with pytest.raises(AttributeError):
        dto.price = Decimal("0.01")


def test_moving_a_category_moves_its_products_to_the_new_department():
    groceries = DepartmentFactory(slug="groceries")
    household = DepartmentFactory(slug="household")
    category = CategoryFactory(department=groceries, slug="paper")
    product = ProductFactory(category=category)

    category.department = household
    category.save()

    assert services.product_get(sku=product.sku).department == "household"
    assert services.department_tree()[1].categories[0].path == "household/paper"
