"""Placing an order: idempotency, validation, numbers, the snapshot, OrderPlaced."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from ordering import services
from ordering.models import Order, SandboxAuthorization
from ordering.services import placement
from prime_now.kernel.errors import ValidationError
from prime_now.kernel.models import OutboxEvent
from tests.kernel.factories import UserFactory
from tests.ordering.factories import DeliverySnapshotFactory, OrderFactory, OrderLineInputFactory

pytestmark = pytest.mark.django_db


def test_an_order_gets_a_human_friendly_number():
    order = OrderFactory()
    assert re.fullmatch(r"PN-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}", order.number)


def test_an_order_number_is_found_whatever_its_case():
    order = OrderFactory()
    assert services.order_get(number=order.number.lower()).number == order.number


def test_a_placed_order_has_its_statuses_as_the_doors_enums():
    order = OrderFactory()
    assert order.status is services.OrderStatus.PLACED
    assert order.payment_status is services.PaymentStatus.AUTHORIZED
    assert [entry.status for entry in order.timeline] == [services.OrderStatus.PLACED]


def test_a_number_collision_draws_another(monkeypatch):
    first = OrderFactory()
    drawn = iter([first.number, "PN-2222-3333"])
    monkeypatch.setattr(placement, "_new_number", lambda: next(drawn))
    assert OrderFactory().number == "PN-2222-3333"


def test_the_placed_order_returned_is_what_reading_it_back_gives():
    # Given an order just placed (built from the rows written, without reading them back)
    placed = OrderFactory(lines=[OrderLineInputFactory(sku="A"), OrderLineInputFactory(sku="B")])
    # Then it is exactly what order_get reads from the database
    assert placed == services.order_get(number=placed.number)


def one_placement() -> dict:
    """One customer's placement with one key, to place again as it is."""
    return {
        "customer": UserFactory(),
        "idempotency_key": "k-1",
        "lines": [OrderLineInputFactory(sku="A")],
        "delivery": DeliverySnapshotFactory(),
    }


def test_the_same_key_twice_returns_the_first_order_and_authorizes_once():
    body = one_placement()
    first = OrderFactory(**body)
    second = OrderFactory(**body)
    assert second == first
    assert Order.objects.count() == 1
    assert SandboxAuthorization.objects.count() == 1
    assert OutboxEvent.objects.filter(name="ordering.OrderPlaced").count() == 1


def test_the_same_key_with_another_body_is_refused_with_422():
    customer = UserFactory()
    delivery = DeliverySnapshotFactory()
    first = OrderFactory(
        customer=customer,
        idempotency_key="k-1",
        delivery=delivery,
        lines=[OrderLineInputFactory(sku="A", quantity=1)],
    )
    with pytest.raises(services.IdempotencyKeyReusedError) as caught:
        OrderFactory(
            customer=customer,
            idempotency_key="k-1",
            delivery=delivery,
            lines=[OrderLineInputFactory(sku="A", quantity=2)],
        )
    assert (caught.value.code, caught.value.status) == ("idempotency_key_reused", 422)
    assert first.number in caught.value.message
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_before_authorizing_again():
    # Given an order placed with a key
    customer = UserFactory()
    delivery = DeliverySnapshotFactory()
    body = {"customer": customer, "idempotency_key": "k-1", "delivery": delivery}
    OrderFactory(**body, lines=[OrderLineInputFactory(sku="A", quantity=1)])
    # When the key is used again for another basket (refused)
    with pytest.raises(services.IdempotencyKeyReusedError):
        OrderFactory(**body, lines=[OrderLineInputFactory(sku="A", quantity=2)])
    # Then nothing more was authorized: the first order's authorization is the only one
    assert list(SandboxAuthorization.objects.values_list("status", flat=True)) == ["authorized"]


def test_a_retry_with_a_declined_card_still_gets_the_order_placed_first():
    body = one_placement()
    first = OrderFactory(**body)

    again = OrderFactory(**body, payment_token="tok_chargeDeclined")

    assert again == first
    assert Order.objects.count() == 1


def test_an_inactive_customer_is_refused_before_anything_is_authorized():
    customer = UserFactory(is_active=False)

    with pytest.raises(ValidationError) as caught:
        OrderFactory(customer=customer)

    assert caught.value.fields == {"customer_id": "Unknown."}
    assert not Order.objects.exists()
    assert not SandboxAuthorization.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_an_unknown_customer_is_refused():
    with pytest.raises(ValidationError) as caught:
        services.order_place(
            customer_id=987654321,
            idempotency_key="k-1",
            lines=[OrderLineInputFactory()],
            delivery=DeliverySnapshotFactory(),
            delivery_fee=Decimal("3.99"),
            tip=Decimal("0.00"),
            payment_token="tok_visa",
        )

    assert caught.value.fields == {"customer_id": "Unknown."}
    assert not Order.objects.exists()


def test_the_same_key_from_another_customer_is_another_order():
    a = OrderFactory(idempotency_key="shared")
    b = OrderFactory(idempotency_key="shared")
    assert a.number != b.number


@pytest.mark.django_db(transaction=True)
def test_concurrent_placements_with_one_key_make_one_order():
    customer = UserFactory()
    body = {
        "customer_id": customer.pk,
        "idempotency_key": "race",
        "lines": [OrderLineInputFactory(sku="A")],
        "delivery": DeliverySnapshotFactory(),
        "delivery_fee": Decimal("1.00"),
        "tip": Decimal("0"),
        "payment_token": "tok_visa",
    }
    results, errors = [], []
    barrier = threading.Barrier(4)

    def place():
        try:
            barrier.wait()
            results.append(services.order_place(**body).number)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=place) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1
    assert Order.objects.count() == 1


def test_placing_publishes_order_placed():
    order = OrderFactory()
    event = OutboxEvent.objects.get(name="ordering.OrderPlaced")
    assert event.payload == {
        "order_number": order.number,
        "customer_id": order.customer_id,
        "hub_code": order.delivery.hub_code,
    }


def test_the_order_keeps_the_snapshot_it_was_placed_with():
    delivery = DeliverySnapshotFactory(hub_code="NYC-02", window_kind="two_hour")
    lines = [
        OrderLineInputFactory(
            product_id=7, sku="X-1", name="Bananas", unit_price=Decimal("0.25"), quantity=6
        )
    ]
    order = OrderFactory(delivery=delivery, lines=lines)
    assert order.delivery == delivery
    (only,) = order.lines
    assert (only.product_id, only.sku, only.name, only.unit_price, only.quantity) == (
        7,
        "X-1",
        "Bananas",
        Decimal("0.25"),
        6,
    )
    assert only.picked_quantity is None and not only.missing
    assert [t.status for t in order.timeline] == ["placed"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [OrderLineInputFactory(sku="A"), OrderLineInputFactory(sku="A")]}, "A"),
        ({"lines": [OrderLineInputFactory(sku="A", quantity=0)]}, "A"),
        ({"lines": [OrderLineInputFactory(sku="A", unit_price=Decimal("-1"))]}, "A.unit_price"),
        ({"lines": [OrderLineInputFactory(sku=" ")]}, "lines"),
        ({"delivery_fee": Decimal("-0.01")}, "delivery_fee"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "x" * 129}, "idempotency_key"),
        ({"delivery": DeliverySnapshotFactory(address=" ")}, "address"),
    ],
)
def test_invalid_placements_are_refused_with_the_field_named(overrides, field):
    with pytest.raises(ValidationError) as caught:
        OrderFactory(**overrides)
    assert field in caught.value.fields
    assert not Order.objects.exists()
    assert not SandboxAuthorization.objects.exists()


def test_an_order_within_the_basket_limits_is_placed():
    limits = services.BASKET_LIMITS
    lines = [
        OrderLineInputFactory(quantity=limits.max_line_quantity) for _ in range(limits.max_lines)
    ]
    assert len(OrderFactory(lines=lines).lines) == limits.max_lines


def test_more_of_one_product_than_a_basket_holds_is_refused():
    # Given a line over the basket's quantity bound
    too_many = OrderLineInputFactory(sku="A", quantity=services.BASKET_LIMITS.max_line_quantity + 1)
    # When it is placed, then it is refused, naming the line, and nothing is authorized
    with pytest.raises(ValidationError) as caught:
        OrderFactory(lines=[too_many])
    assert "A" in caught.value.fields
    assert not SandboxAuthorization.objects.exists()


def test_more_products_than_a_basket_holds_are_refused():
    lines = [OrderLineInputFactory() for _ in range(services.BASKET_LIMITS.max_lines + 1)]
    with pytest.raises(ValidationError) as caught:
        OrderFactory(lines=lines)
    assert caught.value.fields == {"lines": "Too many."}
    assert not Order.objects.exists()


def test_a_window_that_ends_before_it_starts_is_refused():
    snapshot = DeliverySnapshotFactory()
    bad = DeliverySnapshotFactory(
        window_start=snapshot.window_start, window_end=snapshot.window_start - timedelta(minutes=1)
    )
    with pytest.raises(ValidationError) as caught:
        OrderFactory(delivery=bad)
    assert "window_end" in caught.value.fields


def test_orders_for_customer_lists_mine_newest_first_and_pages():
    me = UserFactory()
    mine = [OrderFactory(customer=me) for _ in range(3)]
    OrderFactory()  # someone else's
    listed = services.orders_for_customer(customer_id=me.pk, limit=2)
    assert [o.number for o in listed] == [mine[2].number, mine[1].number]
    rest = services.orders_for_customer(customer_id=me.pk, limit=2, before=listed[-1].number)
    assert [o.number for o in rest] == [mine[0].number]


def test_order_get_with_another_customer_is_not_found():
    order = OrderFactory()
    with pytest.raises(services.OrderNotFoundError):
        services.order_get(number=order.number, customer_id=UserFactory().pk)


def test_customers_also_bought_ranks_skus_bought_together():
    def lines(*skus):
        return [OrderLineInputFactory(sku=s) for s in skus]

    OrderFactory(lines=lines("MILK", "BREAD", "EGGS"))
    OrderFactory(lines=lines("MILK", "BREAD"))
    OrderFactory(lines=lines("MILK", "JAM"))
    OrderFactory(lines=lines("MILK", "CAKE"), status="cancelled")  # not counted
    OrderFactory(lines=lines("TEA", "CAKE"))
    assert services.customers_also_bought(sku="MILK", limit=2) == ("BREAD", "EGGS")
    assert services.customers_also_bought(sku="MILK") == ("BREAD", "EGGS", "JAM")
    assert services.customers_also_bought(sku="NOTHING") == ()


def test_the_database_refuses_a_total_that_does_not_add_up():
    from django.db import IntegrityError, transaction

    order = OrderFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(number=order.number).update(total=order.total + Decimal("0.01"))
