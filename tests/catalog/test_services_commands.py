"""Catalog commands: price changes (with history) and (de)activation, and their events."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog import services
from catalog.models import PriceHistory, Product
from prime_now.kernel.errors import ValidationError
from prime_now.kernel.models import OutboxEvent
from tests.catalog.factories import ProductFactory
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db


def events(name: str) -> list[dict]:
    return list(OutboxEvent.objects.filter(name=name).values_list("payload", flat=True))


def test_a_price_change_is_recorded_with_who_and_when_and_published():
    product = ProductFactory(sku="A-1", price="2.99")
    manager = UserFactory(roles=["operator"])

    dto = services.product_price_set(sku="A-1", price=Decimal("3.49"), changed_by_id=manager.id)

    assert dto.price == Decimal("3.49")
    history = PriceHistory.objects.get(product=product)
    assert (history.old_price, history.new_price, history.changed_by) == (
        Decimal("2.99"),
        Decimal("3.49"),
        manager,
    )
    assert history.changed_at is not None
    assert events("catalog.PriceChanged") == [{"product_ids": [product.id]}]


def test_setting_the_same_price_records_and_publishes_nothing():
    ProductFactory(sku="A-1", price="2.99")

    services.product_price_set(sku="A-1", price=Decimal("2.99"))

    assert not PriceHistory.objects.exists()
    assert events("catalog.PriceChanged") == []


@pytest.mark.parametrize(
    "price", [Decimal("0"), Decimal("-1"), "abc", Decimal("NaN"), Decimal("10000000000")]
)
def test_a_price_must_be_a_positive_amount_the_column_can_hold(price):
    ProductFactory(sku="A-1", price="2.99")

    with pytest.raises(ValidationError):
        services.product_price_set(sku="A-1", price=price)

    assert Product.objects.get().price == Decimal("2.99")


def test_price_of_an_unknown_sku_is_not_found():
    with pytest.raises(services.ProductNotFoundError):
        services.product_price_set(sku="NOPE-1", price=Decimal("1.00"))


def test_deactivating_publishes_product_changed_for_the_products_that_changed():
    a, b = ProductFactory(), ProductFactory(active=False)

    changed = services.products_set_active(ids=[a.id, b.id], active=False)

    assert changed == 1
    assert not Product.objects.get(id=a.id).active
    assert events("catalog.ProductChanged") == [{"product_ids": [a.id]}]


def test_activating_nothing_changes_nothing():
    assert services.products_set_active(ids=[], active=True) == 0
    assert events("catalog.ProductChanged") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", Decimal("0")), ("sku", "bad sku"), ("currency", "usd"), ("name", "")],
)
def test_the_database_refuses_broken_products(field, value):
    product = ProductFactory()
    setattr(product, field, value)

    with pytest.raises(IntegrityError), transaction.atomic():
        product.save()


def test_skus_are_unique_in_the_database():
    ProductFactory(sku="A-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(
            sku="A-1",
            name="Copy",
            slug="copy",
            category=Product.objects.get().category,
            price=Decimal("1.00"),
        )
