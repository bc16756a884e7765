"""A small shop for the storefront's tests: one hub serving 98101 with a one-hour and a
two-hour window, a department of priced products, most in stock there. Built with the
apps' own test factories."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from delivery.models import WindowKind
from prime_now.storefront import memo
from tests.catalog.factories import CategoryFactory, DepartmentFactory, ProductFactory
from tests.delivery.facade.factories import WindowFactory
from tests.fulfillment.factories import HubFactory, StockFactory
from tests.kernel.factories import UserFactory

POSTCODE = "98101"
UNSERVED = "10001"
APPROVED_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


@dataclass
class Shop:
    hub: object
    department: object
    products: list = field(default_factory=list)
    out_of_stock: object = None
    windows: list = field(default_factory=list)


def make_shop(*, products: int = 6) -> Shop:
    hub = HubFactory(code="SEA-01", name="Seattle Downtown", postcodes=[POSTCODE])
    department = DepartmentFactory(slug="groceries", name="Groceries")
    snacks = CategoryFactory(department=department, slug="snacks", name="Snacks")
    drinks = CategoryFactory(department=department, slug="drinks", name="Drinks")
    shop = Shop(hub=hub, department=department)
    for index in range(products):
        product = ProductFactory(
            name=f"{'Crunchy Apple Chips' if index == 0 else 'Sparkling Water'} {index + 1}",
            brand="Acme" if index % 2 else "Prime Basics",
            category=snacks if index % 2 == 0 else drinks,
            price=Decimal("2.50") + index,
        )
        StockFactory(hub=hub, product_id=product.id, sku=product.sku, name=product.name)
        shop.products.append(product)
    shop.out_of_stock = ProductFactory(name="Rare Truffle Oil", category=snacks, price="19.99")
    StockFactory(hub=hub, product_id=shop.out_of_stock.id, sku=shop.out_of_stock.sku, on_hand=0)
    one = WindowFactory(hub_code=hub.code, kind=WindowKind.ONE_HOUR, fee=Decimal("7.99"))
    two = WindowFactory(
        hub_code=hub.code,
        kind=WindowKind.TWO_HOUR,
        start=one.start,
        end=one.start + timedelta(hours=2),
        cutoff_at=one.cutoff_at,
        fee=Decimal("4.99"),
        free_above=Decimal("35.00"),
        capacity=30,
    )
    shop.windows = [one, two]
    return shop


@pytest.fixture
def shop(db) -> Shop:
    return make_shop()


@pytest.fixture
def visitor() -> Client:
    return Client()


@pytest.fixture
def visitor_at_home(visitor, shop) -> Client:
    """A visitor who has told us to deliver to the hub's postcode."""
    response = visitor.post("/deliver-to/", {"postcode": POSTCODE, "address": "1 Pike St"})
    assert response.status_code == 302
    return visitor


@pytest.fixture
def shopper(db):
    return UserFactory(roles=["customer"])


@pytest.fixture
def signed_in(visitor_at_home, shopper) -> Client:
    visitor_at_home.force_login(shopper)
    visitor_at_home.post("/deliver-to/", {"postcode": POSTCODE, "address": "1 Pike St"})
    return visitor_at_home


@pytest.fixture(autouse=True)
def _fresh_memo():
    """Each test starts with the storefront's in-process memo empty (like a fresh worker)."""
    memo.forget_all()
    yield
    memo.forget_all()
