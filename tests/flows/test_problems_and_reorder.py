"""After delivery: a problem with an item is refunded at once when small, queued for support
when large, always on the timeline and through the payment; a past order can be bought again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from ordering import services as ordering
from ordering.models import ProblemReport
from tests.catalog.factories import ProductFactory
from tests.delivery.facade.conftest import APPROVED, make_world
from tests.fulfillment.factories import PickerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    world = make_world(products=2)
    world.pricey = ProductFactory(price=Decimal("40.00"))
    from tests.fulfillment.factories import StockFactory

    StockFactory(hub=world.hub, product_id=world.pricey.id, sku=world.pricey.sku, on_hand=5)
    return world


@pytest.fixture
def delivered(customer_client, customer, world):
    customer.email = "ann@example.com"
    customer.save(update_fields=["email"])
    skus = [world.products[0].sku, world.pricey.sku]
    response = customer_client.post(
        "/api/v1/checkout",
        {
            "lines": [{"sku": sku, "quantity": 2} for sku in skus],
            "address": "1 Pike St",
            "postcode": "98101",
            "window_id": world.window.pk,
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": "problems"},
    )
    number = response.json()["order_number"]
    from fulfillment import services as fulfillment

    picker = PickerFactory(hub=world.hub)
    job = fulfillment.pick_job_claim_next(hub_code=world.hub.code, picker_id=picker.pk)
    for line in job.lines:
        fulfillment.pick_line_confirm(
            job_id=job.id, picker_id=picker.pk, sku=line.sku, picked_quantity=line.quantity
        )
    fulfillment.pick_job_pack(job_id=job.id, picker_id=picker.pk, bags=1)
    ordering.order_mark_out_for_delivery(number=number)
    ordering.order_mark_delivered(number=number)
    return number


def report(client, number, sku, quantity=1, kind="damaged"):
    return client.post(
        f"/api/v1/orders/{number}/problems",
        {"sku": sku, "kind": kind, "quantity": quantity, "note": "squashed"},
        format="json",
    )


def test_a_small_problem_is_refunded_at_once_through_the_payment(customer_client, delivered, world):
    cheap = world.products[0]

    response = report(customer_client, delivered, cheap.sku)

    body = response.json()
    assert response.status_code == 201, body
    assert body["status"] == "refunded" and Decimal(body["amount"]) == cheap.price
    order = ordering.order_get(number=delivered)
    assert order.amount_refunded == cheap.price
    assert order.status == ordering.OrderStatus.DELIVERED  # a part refund, not the whole order
    assert "refunded at once" in order.timeline[-1].reason
    assert [m.subject for m in mail.outbox][-1] == f"Order {delivered}: {cheap.price} USD refunded"


def test_a_large_problem_waits_for_support_and_refunds_nothing_yet(
    customer_client, delivered, world
):
    response = report(customer_client, delivered, world.pricey.sku, quantity=2)

    assert response.json()["status"] == "awaiting_support"
    order = ordering.order_get(number=delivered)
    assert order.amount_refunded == Decimal("0.00")
    assert "sent to support" in order.timeline[-1].reason


def test_support_approves_a_queued_problem_and_the_refund_follows(
    customer_client, delivered, world
):
    problem_id = report(customer_client, delivered, world.pricey.sku, quantity=2).json()["id"]

    decided = ordering.problem_decide(problem_id=problem_id, refund=True, actor_id=None)

    assert decided.status == ordering.ProblemStatus.REFUNDED
    assert ordering.order_get(number=delivered).amount_refunded == Decimal("80.00")


def test_support_rejects_a_queued_problem(customer_client, delivered, world):
    problem_id = report(customer_client, delivered, world.pricey.sku).json()["id"]

    ordering.problem_decide(
        problem_id=problem_id, refund=False, actor_id=None, note="photo shows it whole"
    )

    order = ordering.order_get(number=delivered)
    assert order.amount_refunded == Decimal("0.00")
    assert "not refunded by support" in order.timeline[-1].reason
    with pytest.raises(ordering.IllegalTransitionError):
        ordering.problem_decide(problem_id=problem_id, refund=True, actor_id=None)


def test_the_same_line_is_reported_once(customer_client, delivered, world):
    report(customer_client, delivered, world.products[0].sku)

    again = report(customer_client, delivered, world.products[0].sku)

    assert again.status_code == 422 and again.json()["error"]["code"] == "already_reported"
    assert ordering.order_get(number=delivered).amount_refunded == world.products[0].price


def test_more_units_than_received_are_refused(customer_client, delivered, world):
    response = report(customer_client, delivered, world.products[0].sku, quantity=3)

    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_problem"


def test_a_problem_after_48_hours_is_refused(customer, delivered, world):
    with pytest.raises(ordering.ProblemReportError) as refused:
        ordering.problem_report(
            number=delivered,
            customer_id=customer.pk,
            sku=world.products[0].sku,
            kind=ordering.ProblemKind.MISSING,
            quantity=1,
            now=timezone.now() + timedelta(hours=49),
        )

    assert refused.value.code == "too_late"


def test_a_problem_before_delivery_is_refused(customer_client, customer, world):
    number = customer_client.post(
        "/api/v1/checkout",
        {
            "lines": [{"sku": world.products[0].sku, "quantity": 1}],
            "address": "1 Pike St",
            "postcode": "98101",
            "window_id": world.window.pk,
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": "early"},
    ).json()["order_number"]

    response = report(customer_client, number, world.products[0].sku)

    assert response.json()["error"]["code"] == "not_delivered"
    assert not ProblemReport.objects.exists()


def test_buying_again_puts_the_items_still_sold_in_the_cart(customer_client, delivered, world):
    world.pricey.active = False
    world.pricey.save(update_fields=["active"])

    response = customer_client.post(f"/api/v1/orders/{delivered}/reorder")

    body = response.json()
    assert response.status_code == 200, body
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [
        (world.products[0].sku, 2)
    ]
    assert body["notices"] == [f"{world.pricey.name} is no longer sold."]


def test_buying_again_someone_elses_order_is_not_found(api_client, delivered):
    from tests.kernel.factories import UserFactory

    api_client.force_authenticate(UserFactory(roles=["customer"]))

    assert api_client.post(f"/api/v1/orders/{delivered}/reorder").status_code == 404
