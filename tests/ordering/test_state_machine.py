"""The order status machine: every legal move, every illegal one, idempotency, the timeline."""

from datetime import datetime

import pytest
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from ordering import services
from ordering.events import OrderStatusChanged
from ordering.models import Order, OrderStatus
from prime_now.kernel import bus
from prime_now.kernel.models import OutboxEvent
from tests.kernel.factories import UserFactory
from tests.ordering.factories import PATHS, OrderFactory

pytestmark = pytest.mark.django_db

ALL = [s.value for s in OrderStatus]


def _call(target: str, number: str):
    if target == "picking":
        return services.order_mark_picking(number=number)
    if target == "packed":
        return services.order_mark_packed(number=number)
    if target == "out_for_delivery":
        return services.order_mark_out_for_delivery(number=number)
    if target == "delivered":
        return services.order_mark_delivered(number=number)
    if target == "delivery_failed":
        return services.order_mark_delivery_failed(number=number, reason="Nobody home.")
    if target == "cancelled":
        return services.order_cancel(number=number, reason="No longer needed.")
    if target == "refunded":
        return services.order_refund(number=number, reason="Damaged.")
    raise AssertionError(target)


LEGAL = {
    ("placed", "picking"),
    ("picking", "packed"),
    ("packed", "out_for_delivery"),
    ("out_for_delivery", "delivered"),
    ("packed", "delivery_failed"),
    ("out_for_delivery", "delivery_failed"),
    ("placed", "cancelled"),
    ("picking", "cancelled"),
    ("packed", "cancelled"),
    ("delivered", "refunded"),
}
TARGETS = [s for s in ALL if s != "placed"]
ILLEGAL = [(a, b) for a in ALL for b in TARGETS if a != b and (a, b) not in LEGAL]


@pytest.mark.parametrize(("source", "target"), sorted(LEGAL))
def test_a_legal_transition_moves_the_order_and_writes_the_timeline(source, target):
    # Given an order in the source status
    order = OrderFactory(status=source)
    # When it is moved to the target
    moved = _call(target, order.number)
    # Then it has the target status, and the timeline ends with that move
    assert moved.status == target
    assert moved.timeline[-1].status == target
    assert len(moved.timeline) == len(order.timeline) + 1


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_an_illegal_transition_raises_and_changes_nothing(source, target):
    order = OrderFactory(status=source)
    with pytest.raises(services.IllegalTransitionError) as caught:
        _call(target, order.number)
    assert caught.value.status == 409
    assert caught.value.fields == {"status": source, "target": target}
    after = services.order_get(number=order.number)
    assert after.status == source
    assert after.timeline == order.timeline
    assert after.payment_status == order.payment_status


@pytest.mark.parametrize("target", TARGETS)
def test_asking_for_the_status_an_order_already_has_is_a_no_op(target):
    order = OrderFactory(status=target)
    events_before = OutboxEvent.objects.count()
    again = _call(target, order.number)
    assert again == order
    assert OutboxEvent.objects.count() == events_before


def test_the_factory_paths_cover_every_status():
    assert set(PATHS) == set(ALL)


def test_the_status_field_cannot_be_assigned_around_the_transitions():
    order = Order.objects.get(number=OrderFactory().number)
    with pytest.raises(AttributeError):
        order.status = OrderStatus.DELIVERED


def test_the_model_refuses_an_illegal_transition_itself():
    order = Order.objects.get(number=OrderFactory().number)
    with pytest.raises(TransitionNotAllowed):
        order.deliver()


def test_each_move_publishes_status_changed():
    order = OrderFactory()
    services.order_mark_picking(number=order.number)
    event = OutboxEvent.objects.filter(name="ordering.OrderStatusChanged").latest("created_at")
    changed_at = datetime.fromisoformat(event.payload.pop("at"))
    assert event.payload == {"order_number": order.number, "status": "picking"}
    assert abs((timezone.now() - changed_at).total_seconds()) < 60


def test_a_status_change_is_read_back_with_its_status_as_the_enum():
    # Given a status change published
    order = OrderFactory()
    services.order_mark_picking(number=order.number)
    row = OutboxEvent.objects.filter(name="ordering.OrderStatusChanged").latest("created_at")
    # When a subscriber decodes it
    event = bus.decode(row.name, row.payload)
    # Then its status is ordering's exported enum
    assert event == OrderStatusChanged(
        order_number=order.number,
        status=OrderStatus.PICKING,
        at=datetime.fromisoformat(row.payload["at"]),
    )
    assert event.status is services.OrderStatus.PICKING


def test_the_door_gives_statuses_as_its_enums():
    # Given an order delivered (its payment captured)
    order = OrderFactory(status="delivered")
    # When read through the door
    read = services.order_get(number=order.number)
    # Then its statuses are the exported enums, not strings
    assert read.status is services.OrderStatus.DELIVERED
    assert read.payment_status is services.PaymentStatus.CAPTURED
    assert all(isinstance(entry.status, services.OrderStatus) for entry in read.timeline)


def test_cancelling_publishes_order_cancelled_with_the_hub():
    order = OrderFactory()
    services.order_cancel(number=order.number, reason="Ordered by mistake")
    event = OutboxEvent.objects.get(name="ordering.OrderCancelled")
    assert event.payload == {
        "order_number": order.number,
        "hub_code": order.delivery.hub_code,
        "reason": "Ordered by mistake",
        "by": "system",
    }


def test_the_timeline_records_who_cancelled_and_why():
    owner = UserFactory(username="ada", roles=["customer"])
    order = OrderFactory(customer=owner)
    cancelled = services.order_cancel(
        number=order.number, reason="Wrong address", customer_id=owner.pk
    )
    entry = cancelled.timeline[-1]
    assert (entry.status, entry.actor, entry.reason) == (
        "cancelled",
        "customer:ada",
        "Wrong address",
    )


def test_an_operator_cancellation_names_the_operator():
    operator = UserFactory(username="olga", roles=["operator"])
    order = OrderFactory()
    cancelled = services.order_cancel(
        number=order.number, reason="Fraud check", actor_id=operator.pk
    )
    assert cancelled.timeline[-1].actor == "operator:olga"


def test_system_moves_are_attributed_to_the_system():
    order = OrderFactory(status="picking")
    assert order.timeline[0].actor == "system"
    assert order.timeline[-1].actor == "system"


def test_a_customer_cannot_cancel_someone_elses_order():
    order = OrderFactory()
    stranger = UserFactory(roles=["customer"])
    with pytest.raises(services.OrderNotFoundError):
        services.order_cancel(number=order.number, reason="mine now", customer_id=stranger.pk)
    assert services.order_get(number=order.number).status == "placed"


@pytest.mark.parametrize(
    ("status", "cancellable"),
    [
        ("placed", True),
        ("picking", True),
        ("packed", True),
        ("out_for_delivery", False),
        ("delivered", False),
        ("cancelled", False),
    ],
)
def test_the_order_says_whether_it_can_still_be_cancelled(status, cancellable):
    assert OrderFactory(status=status).cancellable is cancellable


def test_an_unknown_order_is_not_found():
    with pytest.raises(services.OrderNotFoundError):
        services.order_mark_picking(number="PN-0000-0000")
