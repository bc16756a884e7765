"""Substitutions across the apps: the customer's choice at checkout reaches the pick list, the
picker's substitute reaches the order, and the customer's answer moves the total, the payment
hold, the timeline and the hub's shelf."""

from decimal import Decimal

import pytest

from fulfillment import services as fulfillment
from ordering import services as ordering
from tests.catalog.factories import ProductFactory
from tests.delivery.facade.conftest import APPROVED, make_world, pick_and_pack
from tests.fulfillment.factories import PickerFactory, StockFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    world = make_world(products=2)
    first = world.products[0]
    # A cheaper product of the same category, in stock: the best match for the first line.
    world.alike = ProductFactory(category=first.category, price=first.price - Decimal("0.50"))
    world.stock[world.alike.sku] = StockFactory(
        hub=world.hub, product_id=world.alike.id, sku=world.alike.sku, on_hand=10
    )
    return world


def check_out(client, world, lines, key="subs-1"):
    window_id = world.window.pk
    response = client.post(
        "/api/v1/checkout",
        {
            "lines": lines,
            "address": "1 Pike St, Seattle",
            "postcode": "98101",
            "window_id": window_id,
            "tip": "2.00",
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 201, response.json()
    return response.json()["order_number"]


def test_a_best_match_choice_reaches_the_pick_list_as_a_same_category_product(
    customer_client, world
):
    # Given a line left at the department's default (best match)
    first, second = world.products
    # When the customer checks out, and the second line wants no substitute
    number = check_out(
        customer_client,
        world,
        [
            {"sku": first.sku, "quantity": 1},
            {"sku": second.sku, "quantity": 1, "substitution": "none"},
        ],
    )
    # Then the pick list allows the closest in price of its category for it, nothing for the other
    lines = {line.sku: line for line in fulfillment.pick_job_get(order_ref=number).lines}
    assert lines[first.sku].substitute_sku == world.alike.sku
    assert lines[second.sku].substitute_sku is None


def test_a_specific_substitute_is_the_one_the_picker_may_use(customer_client, world):
    first, second = world.products
    number = check_out(
        customer_client,
        world,
        [
            {
                "sku": first.sku,
                "quantity": 1,
                "substitution": "specific",
                "substitute_sku": second.sku,
            },
            {"sku": second.sku, "quantity": 1},
        ],
    )
    order = ordering.order_get(number=number)
    line = next(x for x in order.lines if x.sku == first.sku)

    assert line.substitution == ordering.SubstitutionChoice.SPECIFIC
    assert line.allowed_substitute_sku == second.sku
    pick = {x.sku: x for x in fulfillment.pick_job_get(order_ref=number).lines}
    assert pick[first.sku].substitute_sku == second.sku


def test_an_unknown_specific_substitute_is_refused_at_checkout(customer_client, world):
    first = world.products[0]
    response = customer_client.post(
        "/api/v1/checkout",
        {
            "lines": [
                {
                    "sku": first.sku,
                    "quantity": 1,
                    "substitution": "specific",
                    "substitute_sku": "NOPE-1",
                }
            ],
            "address": "1 Pike St",
            "postcode": "98101",
            "window_id": world.window.pk,
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": "subs-bad"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_substitute"


def test_the_picked_substitute_is_proposed_to_the_customer(customer_client, world):
    first = world.products[0]
    number = check_out(customer_client, world, [{"sku": first.sku, "quantity": 2}])
    # When the picker substitutes
    pick_and_pack(world, substitute_for=first.sku)
    # Then the customer sees it proposed, charged at most the ordered price
    body = customer_client.get(f"/api/v1/orders/{number}").json()
    line = body["lines"][0]
    assert body["status"] == "packed"
    assert line["substitute_sku"] == world.alike.sku
    assert line["substitute_decision"] == "proposed"
    assert Decimal(line["line_total"]) == 2 * world.alike.price


def test_rejecting_a_substitute_takes_it_off_the_bill_the_hold_and_back_to_the_shelf(
    customer_client, world
):
    first, second = world.products
    number = check_out(
        customer_client,
        world,
        [{"sku": first.sku, "quantity": 2}, {"sku": second.sku, "quantity": 1}],
    )
    pick_and_pack(world, substitute_for=first.sku)
    shelf = world.stock[world.alike.sku]
    shelf.refresh_from_db()
    on_shelf = shelf.on_hand

    # When the customer rejects it
    response = customer_client.post(
        f"/api/v1/orders/{number}/substitutes/{first.sku}", {"decision": "reject"}, format="json"
    )

    # Then it is not charged, the hold shrinks to the new total, the timeline says so,
    # and the hub has the two units back on the shelf
    body = response.json()
    assert response.status_code == 200, body
    assert body["lines"][0]["substitute_decision"] == "rejected"
    assert Decimal(body["lines"][0]["line_total"]) == Decimal("0.00")
    assert Decimal(body["subtotal"]) == second.price
    assert Decimal(body["payment"]["authorized"]) == Decimal(body["total"])
    assert "rejected" in body["timeline"][-1]["reason"]
    shelf.refresh_from_db()
    assert shelf.on_hand == on_shelf + 2


def test_the_charge_on_delivery_is_the_total_after_the_rejection(customer_client, world):
    first, second = world.products
    number = check_out(
        customer_client,
        world,
        [{"sku": first.sku, "quantity": 1}, {"sku": second.sku, "quantity": 1}],
    )
    pick_and_pack(world, substitute_for=first.sku)
    ordering.order_substitute_decide(number=number, sku=first.sku, accept=False)

    ordering.order_mark_out_for_delivery(number=number)
    order = ordering.order_mark_delivered(number=number)

    assert order.amount_captured == order.total == second.price + order.delivery_fee + order.tip


def test_an_answer_after_the_courier_left_is_refused(customer_client, world):
    first = world.products[0]
    number = check_out(customer_client, world, [{"sku": first.sku, "quantity": 1}])
    pick_and_pack(world, substitute_for=first.sku)
    ordering.order_mark_out_for_delivery(number=number)

    response = customer_client.post(
        f"/api/v1/orders/{number}/substitutes/{first.sku}", {"decision": "reject"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "courier_left"


def test_an_unanswered_substitute_is_accepted_when_the_courier_leaves(customer_client, world):
    first = world.products[0]
    number = check_out(customer_client, world, [{"sku": first.sku, "quantity": 1}])
    pick_and_pack(world, substitute_for=first.sku)

    order = ordering.order_mark_out_for_delivery(number=number)

    assert order.lines[0].substitute_decision == ordering.SubstituteDecision.ACCEPTED
    assert any("accepted as the courier left" in e.reason for e in order.timeline)


def test_the_same_answer_twice_changes_nothing(customer_client, world):
    first, second = world.products
    number = check_out(
        customer_client,
        world,
        [{"sku": first.sku, "quantity": 1}, {"sku": second.sku, "quantity": 1}],
    )
    pick_and_pack(world, substitute_for=first.sku)
    once = ordering.order_substitute_decide(number=number, sku=first.sku, accept=False)

    twice = ordering.order_substitute_decide(number=number, sku=first.sku, accept=False)

    assert twice.total == once.total and len(twice.timeline) == len(once.timeline)
    with pytest.raises(ordering.SubstituteDecisionError):
        ordering.order_substitute_decide(number=number, sku=first.sku, accept=True)


def test_a_picker_cannot_substitute_a_line_the_customer_wanted_none_for(customer_client, world):
    first = world.products[0]
    number = check_out(
        customer_client, world, [{"sku": first.sku, "quantity": 1, "substitution": "none"}]
    )
    picker = PickerFactory(hub=world.hub)
    job = fulfillment.pick_job_claim_next(hub_code=world.hub.code, picker_id=picker.pk)

    with pytest.raises(fulfillment.StockValidationError):
        fulfillment.pick_line_confirm(
            job_id=job.id,
            picker_id=picker.pk,
            sku=first.sku,
            picked_quantity=0,
            substitute_quantity=1,
        )
    assert (
        ordering.order_get(number=number).lines[0].substitution == ordering.SubstitutionChoice.NONE
    )
