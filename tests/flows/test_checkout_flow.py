"""A customer's journey through HTTP: ask the promise, check out in a window it offered, see the
order, cancel it; the window seat and the stock come back and the pick job is cancelled."""

from decimal import Decimal

import pytest

from fulfillment import services as fulfillment
from tests.delivery.facade.conftest import APPROVED, make_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_promise_checkout_order_and_cancel(customer_client, api_client):
    world = make_world(products=2)
    basket = ",".join(p.sku for p in world.products)

    promise = api_client.get("/api/v1/delivery/promise", {"postcode": "98101", "basket": basket})
    window = promise.json()["windows"][0]
    checkout = customer_client.post(
        "/api/v1/checkout",
        {
            "lines": [{"sku": p.sku, "quantity": 2} for p in world.products],
            "address": "1 Pike St, Seattle",
            "postcode": "98101",
            "window_id": window["id"],
            "tip": "3.00",
            "payment_token": APPROVED,
            "expected_subtotal": str(world.subtotal(2, 2)),
        },
        format="json",
        headers={"Idempotency-Key": "journey-1"},
    )
    number = checkout.json()["order_number"]
    order = customer_client.get(f"/api/v1/orders/{number}")
    job = fulfillment.pick_job_get(order_ref=number)
    cancel = customer_client.post(
        f"/api/v1/orders/{number}/cancel", {"reason": "oops"}, format="json"
    )
    after = api_client.get("/api/v1/delivery/promise", {"postcode": "98101", "basket": basket})

    assert checkout.status_code == 201, checkout.json()
    assert Decimal(checkout.json()["total"]) == world.subtotal(2, 2) + Decimal(window["fee"]) + 3
    assert order.status_code == 200 and order.json()["number"] == number
    assert job.status != "cancelled"
    assert cancel.status_code == 200, cancel.json()
    assert fulfillment.pick_job_get(order_ref=number).status == "cancelled"
    world.window.refresh_from_db()
    assert world.window.booked == 0
    assert after.json()["windows"][0]["available"] == window["available"]
    for row in world.stock.values():
        row.refresh_from_db()
        assert row.reserved == 0
