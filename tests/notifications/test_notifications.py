"""Notifications: each fact the customer cares about is told once per channel, by email (the
test mailbox) and in the app's list; preferences are honoured."""

import pytest
from django.core import mail
from django.utils import timezone

from delivery.events import DeliveryRunningLate
from notifications import services as notifications
from notifications.handlers import on_status_changed
from notifications.models import Notification
from ordering import services as ordering
from ordering.events import OrderStatusChanged
from prime_now.kernel import bus
from tests.delivery.facade.conftest import APPROVED, make_world, pick_and_pack

pytestmark = pytest.mark.django_db(transaction=True)
K = notifications.NotificationKind


@pytest.fixture
def world():
    return make_world(products=2)


@pytest.fixture
def placed(customer_client, customer, world):
    customer.email = "ann@example.com"
    customer.save(update_fields=["email"])
    response = customer_client.post(
        "/api/v1/checkout",
        {
            "lines": [{"sku": p.sku, "quantity": 1} for p in world.products],
            "address": "1 Pike St, Seattle",
            "postcode": "98101",
            "window_id": world.window.pk,
            "tip": "2.00",
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": "notify-1"},
    )
    assert response.status_code == 201, response.json()
    return response.json()["order_number"]


def emails_about(number):
    return [m for m in mail.outbox if number in m.subject]


def test_placing_an_order_sends_one_email_and_one_in_app_message(placed, customer):
    emails = emails_about(placed)

    assert [m.subject for m in emails] == [f"Order {placed} is placed"]
    assert emails[0].to == ["ann@example.com"]
    assert f"/orders/{placed}/" in emails[0].body
    inbox = notifications.notifications_for(user_id=customer.pk)
    assert [(n.kind, n.read) for n in inbox] == [(K.ORDER_PLACED, False)]


def test_every_step_to_the_door_is_told_once(placed, world, customer):
    pick_and_pack(world)
    ordering.order_mark_out_for_delivery(number=placed)
    ordering.order_mark_delivered(number=placed)

    subjects = [m.subject for m in emails_about(placed)]
    assert subjects == [
        f"Order {placed} is placed",
        f"Order {placed} is packed",
        f"Order {placed} is on its way",
        f"Order {placed} was delivered",
    ]
    kinds = [n.kind for n in notifications.notifications_for(user_id=customer.pk)]
    assert kinds == [K.DELIVERED, K.OUT_FOR_DELIVERY, K.PACKED, K.ORDER_PLACED]


def test_the_delivered_email_gives_the_amount_charged(placed, world):
    pick_and_pack(world)
    ordering.order_mark_out_for_delivery(number=placed)
    order = ordering.order_mark_delivered(number=placed)

    delivered = emails_about(placed)[-1]
    assert f"We charged {order.amount_captured} {order.currency}" in delivered.body


def test_a_substitute_is_announced_with_what_it_costs(customer_client, customer, world):
    from decimal import Decimal

    from tests.catalog.factories import ProductFactory
    from tests.fulfillment.factories import StockFactory

    first = world.products[0]
    alike = ProductFactory(category=first.category, price=first.price - Decimal("0.20"))
    StockFactory(hub=world.hub, product_id=alike.id, sku=alike.sku, on_hand=5)
    number = customer_client.post(
        "/api/v1/checkout",
        {
            "lines": [{"sku": first.sku, "quantity": 1}],
            "address": "1 Pike St",
            "postcode": "98101",
            "window_id": world.window.pk,
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": "notify-sub"},
    ).json()["order_number"]

    pick_and_pack(world, substitute_for=first.sku)

    proposed = [m for m in emails_about(number) if "substitute" in m.subject]
    assert len(proposed) == 1
    assert f"1 × {alike.name} at {alike.price} USD" in proposed[0].body
    kinds = [n.kind for n in notifications.notifications_for(user_id=customer.pk)]
    assert K.SUBSTITUTES_PROPOSED in kinds


def test_cancelling_is_told_once(placed, customer):
    ordering.order_cancel(number=placed, reason="changed my mind", customer_id=customer.pk)

    assert [m.subject for m in emails_about(placed)][-1] == f"Order {placed} is cancelled"


def test_a_redelivered_event_tells_nothing_twice(placed, world):
    pick_and_pack(world)
    before = (len(mail.outbox), Notification.objects.count())

    # The bus delivers at least once: the handler itself may run again for the same fact.
    on_status_changed(OrderStatusChanged(order_number=placed, status=ordering.OrderStatus.PACKED))

    assert (len(mail.outbox), Notification.objects.count()) == before


def test_running_late_is_told_with_the_new_time(placed):
    bus.publish(
        DeliveryRunningLate(
            order_number=placed, window_end=timezone.now(), expected_at=timezone.now()
        )
    )

    assert [m.subject for m in emails_about(placed)][-1] == f"Order {placed} is running late"


def test_a_customer_who_turned_email_off_gets_the_in_app_message_only(
    customer_client, customer, world, placed
):
    customer_client.put("/api/v1/notifications/preferences", {"email": False}, format="json")
    before = len(mail.outbox)

    ordering.order_cancel(number=placed, reason="", customer_id=customer.pk)

    assert len(mail.outbox) == before
    assert notifications.notifications_for(user_id=customer.pk)[0].kind == K.CANCELLED


def test_a_muted_kind_is_not_emailed(customer_client, customer, world, placed):
    response = customer_client.put(
        "/api/v1/notifications/preferences",
        {"email": True, "email_muted": ["packed"]},
        format="json",
    )
    before = len(mail.outbox)

    pick_and_pack(world)

    assert response.json() == {"email": True, "email_muted": ["packed"]}
    assert len(mail.outbox) == before


def test_the_api_lists_my_notifications_and_marks_them_read(customer_client, placed):
    listed = customer_client.get("/api/v1/notifications").json()

    marked = customer_client.post("/api/v1/notifications/read", {}, format="json").json()

    assert listed["unread"] == 1 and listed["results"][0]["kind"] == "order_placed"
    assert listed["results"][0]["order_number"] == placed
    assert marked == {"marked": 1, "unread": 0}
    assert customer_client.get("/api/v1/notifications").json()["results"][0]["read"] is True


def test_another_customers_notifications_are_not_listed(api_client, placed):
    from tests.kernel.factories import UserFactory

    api_client.force_authenticate(UserFactory(roles=["customer"]))

    assert api_client.get("/api/v1/notifications").json()["results"] == []


def test_an_unknown_kind_in_preferences_is_refused(customer_client):
    response = customer_client.put(
        "/api/v1/notifications/preferences",
        {"email": True, "email_muted": ["spam"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_an_email_is_sent_once_even_if_its_task_runs_twice(placed):
    row = Notification.objects.get(order_number=placed, channel="email")
    before = len(mail.outbox)

    sent_again = notifications.email_send(notification_id=row.pk)

    assert sent_again is False and len(mail.outbox) == before


def test_a_full_refund_is_told_once(placed, world):
    pick_and_pack(world)
    ordering.order_mark_out_for_delivery(number=placed)
    ordering.order_mark_delivered(number=placed)

    order = ordering.order_refund(number=placed, reason="goodwill")

    refunded = [m for m in emails_about(placed) if m.subject == f"Order {placed} is refunded"]
    assert len(refunded) == 1
    assert f"We refunded {order.amount_refunded} {order.currency}" in refunded[0].body


def test_a_failed_delivery_is_told_once_with_the_reason(placed, world):
    pick_and_pack(world)
    ordering.order_mark_out_for_delivery(number=placed)

    ordering.order_mark_delivery_failed(number=placed, reason="Customer unavailable")

    failed = [
        m for m in emails_about(placed) if m.subject == f"We could not deliver order {placed}"
    ]
    assert len(failed) == 1 and "Customer unavailable" in failed[0].body
