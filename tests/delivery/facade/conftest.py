"""A small world for checkout: one hub serving postcode 98101, priced products in stock there,
a window on sale, a customer. Built through the other apps' own test factories."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from delivery.models import Window
from delivery.services import CheckoutLine, CheckoutRequest, CheckoutResult, checkout_place
from fulfillment import services as fulfillment
from fulfillment.models import Hub
from tests.catalog.factories import ProductFactory
from tests.fulfillment.factories import HubFactory, PickerFactory, StockFactory
from tests.kernel.factories import UserFactory

from .factories import WindowFactory

APPROVED = "tok_visa"
DECLINED = "tok_chargeDeclined"


@dataclass
class World:
    hub: Hub
    window: Window
    products: list = field(default_factory=list)
    stock: dict = field(default_factory=dict)  # sku -> Stock row

    def lines(self, *quantities: int) -> list[CheckoutLine]:
        quantities = quantities or (1,) * len(self.products)
        return [
            CheckoutLine(sku=p.sku, quantity=q)
            for p, q in zip(self.products, quantities, strict=True)
        ]

    def subtotal(self, *quantities: int) -> Decimal:
        return sum(
            (
                p.price * q
                for p, q in zip(self.products, quantities or (1,) * len(self.products), strict=True)
            ),
            Decimal("0.00"),
        )


def make_world(*, products: int = 3, on_hand: int = 10, capacity: int = 10) -> World:
    hub = HubFactory()
    world = World(hub=hub, window=WindowFactory(hub_code=hub.code, capacity=capacity))
    for index in range(products):
        product = ProductFactory(price=Decimal("2.50") + index)
        world.products.append(product)
        world.stock[product.sku] = StockFactory(
            hub=hub, product_id=product.id, sku=product.sku, name=product.name, on_hand=on_hand
        )
    return world


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def shopper(db):
    return UserFactory(roles=["customer"])


def place(world: World, customer, *, key: str = "key-1", **overrides) -> CheckoutResult:
    """Check out every product of the world, one of each (or as `overrides` say)."""
    fields = {
        "lines": world.lines(),
        "address": "1 Pike St, Seattle",
        "postcode": "98101",
        "lat": None,
        "lon": None,
        "window_id": world.window.pk,
        "tip": Decimal("2.00"),
        "payment_token": APPROVED,
    }
    fields.update(overrides)
    fields["lines"] = tuple(fields["lines"])
    return checkout_place(
        customer_id=customer.pk, idempotency_key=key, request=CheckoutRequest(**fields)
    )


def checkout_body(world: World, **overrides) -> dict:
    """A valid checkout request for every product of the world, one of each."""
    data = {
        "lines": [{"sku": p.sku, "quantity": 1} for p in world.products],
        "address": "1 Pike St, Seattle",
        "postcode": "98101",
        "window_id": world.window.pk,
        "tip": "1.50",
        "payment_token": APPROVED,
    }
    data.update(overrides)
    return data


def pick_and_pack(world: World, *, substitute_for: str | None = None):
    """A picker at the world's hub takes the next pick job, picks every line (bagging the
    allowed substitute instead of `substitute_for`, when given) and packs it in one bag."""
    picker = PickerFactory(hub=world.hub)
    job = fulfillment.pick_job_claim_next(hub_code=world.hub.code, picker_id=picker.pk)
    for line in job.lines:
        swap = line.sku == substitute_for
        fulfillment.pick_line_confirm(
            job_id=job.id,
            picker_id=picker.pk,
            sku=line.sku,
            picked_quantity=0 if swap else line.quantity,
            substitute_quantity=line.quantity if swap else 0,
        )
    fulfillment.pick_job_pack(job_id=job.id, picker_id=picker.pk, bags=1)
    return job
