"""The catalog admin: search, bulk (de)activation and price edits through the services."""

from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import PriceHistory, Product
from prime_now.kernel.models import OutboxEvent
from tests.catalog.factories import ProductFactory
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/catalog/product/"


@pytest.fixture
def manager():
    return UserFactory(username="manager", is_staff=True, is_superuser=True)


@pytest.fixture
def browser(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def test_search_finds_products_by_sku_name_or_brand(browser):
    ProductFactory(sku="PN-000777", name="Whole Milk", brand="Horizon")
    ProductFactory(sku="PN-000888", name="Dish Soap", brand="Method")

    for term in ("PN-000777", "milk", "horizon"):
        page = browser.get(CHANGELIST, {"q": term}).content.decode()
        assert "PN-000777" in page and "PN-000888" not in page


def test_bulk_deactivate_goes_through_the_service_and_publishes(browser):
    a, b = ProductFactory(), ProductFactory()

    response = browser.post(
        CHANGELIST, {"action": "deactivate", "_selected_action": [a.id, b.id]}, follow=True
    )

    assert response.status_code == 200
    assert not Product.objects.filter(active=True).exists()
    assert OutboxEvent.objects.filter(name="catalog.ProductChanged").exists()


def test_bulk_activate(browser):
    a = ProductFactory(active=False)

    browser.post(CHANGELIST, {"action": "activate", "_selected_action": [a.id]})

    assert Product.objects.get(id=a.id).active


def change_form(product: Product, **overrides) -> dict:
    data = {
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "brand": product.brand,
        "size": product.size,
        "category": product.category_id,
        "price": str(product.price),
        "currency": product.currency,
        "active": "on",
        "description": product.description,
        "image_url": product.image_url,
        "attributes": "{}",
        "price_history-TOTAL_FORMS": "0",
        "price_history-INITIAL_FORMS": "0",
        "price_history-MIN_NUM_FORMS": "0",
        "price_history-MAX_NUM_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_a_price_edit_on_the_form_records_who_changed_it(browser, manager):
    product = ProductFactory(price="2.99")

    response = browser.post(f"{CHANGELIST}{product.id}/change/", change_form(product, price="3.19"))

    assert response.status_code == 302, response.content.decode()[:2000]
    history = PriceHistory.objects.get(product=product)
    assert (history.old_price, history.new_price, history.changed_by, history.source) == (
        Decimal("2.99"),
        Decimal("3.19"),
        manager,
        "admin",
    )
    assert OutboxEvent.objects.filter(name="catalog.PriceChanged").count() == 1


def test_an_inline_price_edit_in_the_list_records_history(browser, manager):
    product = ProductFactory(price="2.99")

    response = browser.post(
        CHANGELIST,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(product.id),
            "form-0-price": "4.10",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    assert Product.objects.get(id=product.id).price == Decimal("4.10")
    assert PriceHistory.objects.get(product=product).changed_by == manager


def test_a_zero_price_is_refused_by_the_form(browser):
    product = ProductFactory(price="2.99")

    response = browser.post(f"{CHANGELIST}{product.id}/change/", change_form(product, price="0"))

    assert response.status_code == 200  # the form again, with the error
    assert Product.objects.get(id=product.id).price == Decimal("2.99")
    assert not PriceHistory.objects.exists()


def test_products_cannot_be_deleted_only_deactivated(browser):
    product = ProductFactory()

    response = browser.post(f"{CHANGELIST}{product.id}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Product.objects.filter(id=product.id).exists()
