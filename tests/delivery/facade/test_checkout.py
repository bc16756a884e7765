"""Checkout through the façade's door, against the real catalog, fulfillment and ordering."""

from decimal import Decimal

import pytest

from delivery.models import Checkout, CheckoutStatus, HoldStatus, WindowHold
from delivery.services import (
    CheckoutUnavailableError,
    PriceChangedError,
    WindowFullError,
    WindowNotServedError,
)
from fulfillment import services as fulfillment
from ordering import services as ordering
from ordering.services import IdempotencyKeyReusedError
from prime_now.kernel.errors import ValidationError
from prime_now.kernel.models import OutboxEvent
from tests.kernel.broker import DEAD_BROKER, broker_at

from .conftest import DECLINED, make_world, place
from .factories import WindowFactory

pytestmark = pytest.mark.django_db(transaction=True)


def assert_nothing_held(world, customer) -> None:
    world.window.refresh_from_db()
    assert (world.window.held, world.window.booked) == (0, 0)
    for row in world.stock.values():
        row.refresh_from_db()
        assert row.reserved == 0, row.sku
    assert not WindowHold.objects.filter(status=HoldStatus.HELD).exists()
    assert ordering.orders_for_customer(customer_id=customer.pk) == ()


def test_a_checkout_places_the_order_books_the_window_and_holds_the_stock(world, shopper):
    result = place(world, shopper)

    order = ordering.order_get(number=result.order_number, customer_id=shopper.pk)
    assert [line.sku for line in order.lines] == sorted(p.sku for p in world.products)
    assert order.delivery.window_id == world.window.pk
    assert result.total == world.subtotal() + Decimal("7.99") + Decimal("2.00")
    world.window.refresh_from_db()
    assert (world.window.booked, world.window.held) == (1, 0)
    for row in world.stock.values():
        row.refresh_from_db()
        assert row.reserved == 1
    checkout = Checkout.objects.get(order_number=result.order_number)
    assert checkout.status == CheckoutStatus.PLACED
    assert (
        fulfillment.stock_reservation_get(reservation_id=checkout.reservation_id).status
        == "confirmed"
    )


def test_a_placed_order_gets_a_pick_job_due_before_its_window(world, shopper):
    result = place(world, shopper)

    job = fulfillment.pick_job_get(order_ref=result.order_number)
    assert job.hub_code == world.hub.code
    assert job.due_by < world.window.start
    assert {line.sku for line in job.lines} == {p.sku for p in world.products}


def test_the_two_hour_fee_is_waived_above_the_minimum_basket(shopper, db):
    world = make_world()
    world.window = WindowFactory(
        hub_code=world.hub.code, kind="two_hour", fee=Decimal("4.99"), free_above=Decimal("5.00")
    )

    result = place(world, shopper)

    assert result.total == world.subtotal() + Decimal("2.00")


def test_the_same_key_and_request_returns_the_same_order(world, shopper):
    first = place(world, shopper)
    again = place(world, shopper)

    assert again.order_number == first.order_number
    assert len(ordering.orders_for_customer(customer_id=shopper.pk)) == 1


def test_the_same_key_with_another_basket_is_refused(world, shopper):
    place(world, shopper)

    with pytest.raises(IdempotencyKeyReusedError):
        place(world, shopper, lines=world.lines(2, 1, 1))


def test_a_changed_price_is_reported_with_the_new_prices_and_holds_nothing(world, shopper):
    with pytest.raises(PriceChangedError) as error:
        place(world, shopper, expected_subtotal=world.subtotal() - Decimal("1.00"))

    assert error.value.fields["prices"][world.products[0].sku] == str(world.products[0].price)
    assert_nothing_held(world, shopper)


def test_out_of_stock_names_the_lines_and_releases_the_window(world, shopper):
    short = world.products[1]

    with pytest.raises(fulfillment.InsufficientStockError) as error:
        place(world, shopper, lines=world.lines(1, 11, 1))

    assert error.value.fields["shortages"] == [{"sku": short.sku, "requested": 11, "available": 10}]
    assert short.sku in error.value.message
    assert_nothing_held(world, shopper)
    assert Checkout.objects.get().failure_code == "out_of_stock"


def test_a_full_window_is_reported_and_no_stock_is_held(shopper, db):
    world = make_world(capacity=0)

    with pytest.raises(WindowFullError):
        place(world, shopper)

    assert_nothing_held(world, shopper)


def test_a_window_of_another_hub_is_refused(world, shopper):
    other = WindowFactory(hub_code="elsewhere")

    with pytest.raises(WindowNotServedError):
        place(world, shopper, window_id=other.pk)


def test_an_address_outside_every_hub_is_not_served(world, shopper):
    with pytest.raises(fulfillment.AddressNotServedError):
        place(world, shopper, postcode="10001")

    assert_nothing_held(world, shopper)


def test_a_declined_payment_releases_the_stock_and_the_window(world, shopper):
    with pytest.raises(ordering.PaymentDeclinedError):
        place(world, shopper, payment_token=DECLINED)

    assert_nothing_held(world, shopper)
    assert Checkout.objects.get().failure_code == "payment_declined"


def test_fulfillment_failing_mid_checkout_is_named_and_leaves_nothing_held(
    world, shopper, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("fulfillment database went away")

    monkeypatch.setattr(fulfillment, "stock_reservation_confirm", broken)

    with pytest.raises(CheckoutUnavailableError) as error:
        place(world, shopper)

    assert error.value.fields == {"step": "confirm"}
    assert "nothing is held" in error.value.message
    assert_nothing_held(world, shopper)


def test_fulfillment_failing_at_reservation_is_named_and_releases_the_window(
    world, shopper, monkeypatch
):
    def broken(**kwargs):
        raise ConnectionError("fulfillment unreachable")

    monkeypatch.setattr(fulfillment, "stock_reserve", broken)

    with pytest.raises(CheckoutUnavailableError) as error:
        place(world, shopper)

    assert error.value.fields == {"step": "stock"}
    assert_nothing_held(world, shopper)


def _window_holds_expire_before(step, monkeypatch, taken_by=None):
    """Make every window hold expire just before `step` (a fulfillment service) runs; a
    checkout of `taken_by` (world, customer) then takes the freed seat."""
    from datetime import timedelta

    from django.utils import timezone

    from delivery.facade.windows import window_holds_expire

    real = getattr(fulfillment, step)

    def expiring(**kwargs):
        window_holds_expire(now=timezone.now() + timedelta(hours=1))
        if taken_by is not None:
            monkeypatch.setattr(fulfillment, step, real)
            place(*taken_by, key="took-the-seat")
        return real(**kwargs)

    monkeypatch.setattr(fulfillment, step, expiring)


def test_a_window_hold_that_expired_mid_checkout_still_books_a_free_seat(
    world, shopper, monkeypatch
):
    _window_holds_expire_before("stock_reservation_confirm", monkeypatch)

    place(world, shopper)

    world.window.refresh_from_db()
    assert (world.window.booked, world.window.held) == (1, 0)


def test_a_window_hold_that_expired_while_its_seat_went_to_another_is_refused_and_undone(
    shopper, monkeypatch
):
    from tests.kernel.factories import UserFactory

    world = make_world(capacity=1)
    customer = UserFactory(roles=["customer"])
    _window_holds_expire_before("stock_reserve", monkeypatch, taken_by=(world, customer))

    with pytest.raises(WindowFullError):
        place(world, shopper)

    world.window.refresh_from_db()
    assert (world.window.booked, world.window.held) == (1, 0)
    for row in world.stock.values():  # only the other customer's units are held
        row.refresh_from_db()
        assert row.reserved == 1, row.sku
    assert ordering.orders_for_customer(customer_id=shopper.pk) == ()
    assert len(ordering.orders_for_customer(customer_id=customer.pk)) == 1
    assert Checkout.objects.get(customer=shopper).replay["code"] == "window_full"


def test_with_the_broker_down_the_order_is_placed_and_picked_once_the_broker_is_back(
    world, shopper
):
    from prime_now.kernel import bus

    with broker_at(DEAD_BROKER):
        result = place(world, shopper)

    assert ordering.order_get(number=result.order_number).status == "placed"
    with pytest.raises(fulfillment.PickJobNotFoundError):
        fulfillment.pick_job_get(order_ref=result.order_number)
    assert OutboxEvent.objects.filter(relayed_at__isnull=True).exists()

    bus.relay_all()

    assert fulfillment.pick_job_get(order_ref=result.order_number).status
    world.window.refresh_from_db()
    assert (world.window.booked, world.window.held) == (1, 0)


def test_cancelling_the_order_frees_the_window_and_the_stock(world, shopper):
    result = place(world, shopper)

    ordering.order_cancel(
        number=result.order_number, reason="changed my mind", customer_id=shopper.pk
    )

    world.window.refresh_from_db()
    assert world.window.booked == 0
    for row in world.stock.values():
        row.refresh_from_db()
        assert row.reserved == 0
    assert Checkout.objects.get().status == CheckoutStatus.CANCELLED


def test_more_of_one_item_than_ordering_allows_is_refused_before_anything_is_held(world, shopper):
    too_many = ordering.BASKET_LIMITS.max_line_quantity + 1

    with pytest.raises(ValidationError) as error:
        place(world, shopper, lines=world.lines(too_many, 1, 1))

    assert error.value.fields == {"quantities": {world.products[0].sku: too_many}}
    assert_nothing_held(world, shopper)


def test_the_door_refuses_a_reused_key_with_orderings_error(world, shopper):
    from delivery import services as delivery

    place(world, shopper)

    with pytest.raises(ordering.IdempotencyKeyReusedError):
        place(world, shopper, tip=Decimal("9.00"))
    assert delivery.IdempotencyKeyReusedError is ordering.IdempotencyKeyReusedError


def test_tracking_gives_the_order_status_as_orderings_enum(world, shopper):
    from delivery import services as delivery

    result = place(world, shopper)

    tracking = delivery.tracking_for(order_number=result.order_number, customer_id=shopper.pk)

    assert tracking.status is ordering.OrderStatus.PLACED
    assert tracking.delivery_status is None
