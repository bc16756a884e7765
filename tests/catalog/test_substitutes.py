"""What may stand in for a product: same category, closest in price, the department's default."""

from decimal import Decimal

import pytest

from catalog import services
from tests.catalog.factories import CategoryFactory, DepartmentFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    snacks = CategoryFactory()
    chips = ProductFactory(category=snacks, price=Decimal("3.00"))
    near = ProductFactory(category=snacks, price=Decimal("3.20"))
    far = ProductFactory(category=snacks, price=Decimal("9.00"))
    elsewhere = ProductFactory(price=Decimal("3.00"))
    return chips, near, far, elsewhere


def test_substitutes_are_of_the_same_category_closest_in_price_first(shelf):
    chips, near, far, _elsewhere = shelf

    found = services.product_substitutes(sku=chips.sku, limit=5)

    assert [p.sku for p in found] == [near.sku, far.sku]


def test_inactive_and_age_restricted_products_do_not_stand_in_for_a_plain_one(shelf):
    chips, near, far, _ = shelf
    ProductFactory(category=chips.category, price=Decimal("3.01"), active=False)
    ProductFactory(category=chips.category, price=Decimal("3.02"), age_restricted=True)

    found = services.product_substitutes(sku=chips.sku, limit=5)

    assert [p.sku for p in found] == [near.sku, far.sku]


def test_substitutes_can_be_limited_to_some_products(shelf):
    chips, _near, far, _ = shelf

    found = services.product_substitutes(sku=chips.sku, among_ids=[far.id])

    assert [p.sku for p in found] == [far.sku]


def test_substitutes_of_several_products_come_in_one_query(shelf, django_assert_num_queries):
    chips, near, far, elsewhere = shelf

    with django_assert_num_queries(1):
        found = services.products_substitutes(skus=[chips.sku, near.sku], limit=1)

    assert [p.sku for p in found[chips.sku]] == [near.sku]
    assert [p.sku for p in found[near.sku]] == [chips.sku]


def test_an_unknown_sku_has_no_substitutes():
    assert services.product_substitutes(sku="NOPE-1") == ()


def test_a_product_says_whether_its_department_substitutes_by_default():
    pantry = CategoryFactory(department=DepartmentFactory(slug="pantry"))
    baby = CategoryFactory(department=DepartmentFactory(slug="baby", substitutes_by_default=False))
    rice, formula = ProductFactory(category=pantry), ProductFactory(category=baby)

    found = services.products_by_skus(skus=[rice.sku, formula.sku])

    assert found[rice.sku].substitutes_by_default is True
    assert found[formula.sku].substitutes_by_default is False
