"""Ordering factories for any app's tests. Orders are made through ordering's door, so they
hold every invariant a real one does (payment authorized, timeline, OrderPlaced published).

    order = OrderFactory()                                  # placed, one line, sandbox Visa
    order = OrderFactory(status="out_for_delivery")         # walked through the transitions
    order = OrderFactory(customer=user, lines=[OrderLineInputFactory(sku="PN-000001")])
    snapshot = DeliverySnapshotFactory(hub_code="SEA-01")

Lines carry plain product ids and SKUs; they need no catalog rows (ordering trusts the
façade's prices at placement). Pass `lines=line_inputs_for(products)` to use real products.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from ordering import services
from tests.kernel.factories import UserFactory

# The status path from placed to each status, as the door's calls.
PATHS: dict[str, tuple[str, ...]] = {
    "placed": (),
    "picking": ("picking",),
    "packed": ("picking", "packed"),
    "out_for_delivery": ("picking", "packed", "out_for_delivery"),
    "delivered": ("picking", "packed", "out_for_delivery", "delivered"),
    "delivery_failed": ("picking", "packed", "out_for_delivery", "delivery_failed"),
    "cancelled": ("cancelled",),
    "refunded": ("picking", "packed", "out_for_delivery", "delivered", "refunded"),
}


def advance(number: str, status: str) -> services.OrderDTO:
    """Walk a placed order to `status` through the door's transitions."""
    order = services.order_get(number=number)
    for step in PATHS[status]:
        if step == "picking":
            order = services.order_mark_picking(number=number)
        elif step == "packed":
            order = services.order_mark_packed(number=number)
        elif step == "out_for_delivery":
            order = services.order_mark_out_for_delivery(number=number)
        elif step == "delivered":
            order = services.order_mark_delivered(number=number)
        elif step == "delivery_failed":
            order = services.order_mark_delivery_failed(number=number, reason="Nobody home.")
        elif step == "cancelled":
            order = services.order_cancel(number=number, reason="Changed my mind.")
        elif step == "refunded":
            order = services.order_refund(number=number, reason="Damaged goods.")
    return order


class OrderLineInputFactory(factory.Factory):
    class Meta:
        model = services.OrderLineInput

    product_id = factory.Sequence(lambda n: 900_000 + n)
    sku = factory.Sequence(lambda n: f"ORD-{n + 1:06d}")
    name = factory.Sequence(lambda n: f"Ordered Product {n + 1}")
    unit_price = Decimal("2.50")
    quantity = 2


class DeliverySnapshotFactory(factory.Factory):
    class Meta:
        model = services.DeliverySnapshot

    address = "410 Terry Ave N, Seattle"
    postcode = "98109"
    lat = 47.6223
    lon = -122.3366
    hub_code = "SEA-01"
    window_id = factory.Sequence(lambda n: n + 1)
    window_start = factory.LazyFunction(
        lambda: timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    )
    window_end = factory.LazyAttribute(lambda o: o.window_start + timedelta(hours=1))
    window_kind = "one_hour"


def line_inputs_for(products, quantity: int = 1) -> list[services.OrderLineInput]:
    """Order lines for catalog products (ProductFactory instances or ProductDTOs)."""
    return [
        services.OrderLineInput(
            product_id=p.id, sku=p.sku, name=p.name, unit_price=Decimal(p.price), quantity=quantity
        )
        for p in products
    ]


class OrderFactory(factory.Factory):
    """Places an order through `order_place` and returns its OrderDTO."""

    class Meta:
        model = services.OrderDTO

    customer = factory.LazyFunction(lambda: UserFactory(roles=["customer"]))
    idempotency_key = factory.LazyFunction(lambda: str(uuid.uuid4()))
    lines = factory.LazyFunction(lambda: [OrderLineInputFactory()])
    delivery = factory.SubFactory(DeliverySnapshotFactory)
    delivery_fee = Decimal("3.99")
    tip = Decimal("2.00")
    payment_token = "tok_visa"
    status = "placed"

    @classmethod
    def _create(cls, model_class, *, customer, status, **kwargs):
        order = services.order_place(customer_id=customer.pk, **kwargs)
        return advance(order.number, status) if status != "placed" else order

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("An order only exists once placed: use OrderFactory().")
