"""Checkouts racing for the last units and the last seats, on PostgreSQL with real threads."""

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from delivery.models import Checkout, CheckoutStatus
from ordering import services as ordering
from tests.kernel.factories import UserFactory

from .conftest import APPROVED, make_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# PostgreSQL allows 100 connections here, shared with other test runs: 40 threads run the
# 200 checkouts, all released together by a barrier, so they genuinely overlap.
THREADS = 40


def _run_all(calls):
    barrier = threading.Barrier(min(THREADS, len(calls)))

    def run(call):
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=30)  # each wave of THREADS starts together
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, calls))


def _checkout(user, world, key):
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        "/api/v1/checkout",
        {
            "lines": [{"sku": world.products[0].sku, "quantity": 1}],
            "address": "1 Pike St, Seattle",
            "postcode": "98101",
            "window_id": world.window.pk,
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": key},
    )
    return response.status_code, response.json()


def test_200_checkouts_for_5_units_and_3_seats_make_exactly_3_orders():
    world = make_world(products=1, on_hand=5, capacity=3)
    users = [UserFactory() for _ in range(200)]

    results = _run_all([lambda u=u: _checkout(u, world, f"race-{u.pk}") for u in users])

    statuses = Counter(status for status, _ in results)
    assert statuses[201] == 3, statuses
    assert all(status < 500 for status in statuses), statuses
    reasons = Counter(body["error"]["code"] for status, body in results if status != 201)
    assert set(reasons) <= {"window_full", "out_of_stock"}, reasons
    assert all(body["error"]["message"] for status, body in results if status != 201)
    world.window.refresh_from_db()
    assert (world.window.booked, world.window.held) == (3, 0)
    stock = world.stock[world.products[0].sku]
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (5, 3)
    placed = Checkout.objects.filter(status=CheckoutStatus.PLACED)
    assert placed.count() == 3
    for checkout in placed:
        assert ordering.order_get(number=checkout.order_number).status == "placed"


def test_a_retry_storm_with_one_key_makes_one_order():
    world = make_world(products=2)
    user = UserFactory()

    results = _run_all([lambda: _checkout(user, world, "storm")] * 10)

    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    assert statuses[201] >= 1
    numbers = {body["order_number"] for status, body in results if status == 201}
    assert len(numbers) == 1
    assert len(ordering.orders_for_customer(customer_id=user.pk)) == 1
    world.window.refresh_from_db()
    assert (world.window.booked, world.window.held) == (1, 0)
