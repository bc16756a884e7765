"""What one checkout costs the database, so that it cannot creep back up (issue 7)."""

import pytest

from .conftest import checkout_body, make_world

CHECKOUT = "/api/v1/checkout"
# PostgreSQL, 8 lines, over HTTP (authentication forced, so no token lookup): claim the
# checkout (its key), prices, window hold (with the window read), the stock reservation (one
# statement), order lookup, payment authorization (one statement), the order with its lines,
# payment, timeline and OrderPlaced (one statement), stock confirmation, the checkout row with
# the window booking and the result kept for retries, BEGIN/COMMIT. OrderPlaced is handed on
# after commit by one message, with no statement (a worker relays it to its subscribers).
MAX_QUERIES_POSTGRES = 11


@pytest.mark.django_db(transaction=True)
def test_an_eight_line_checkout_stays_within_its_queries(
    customer_client, django_assert_max_num_queries, monkeypatch
):
    from prime_now.kernel import tasks

    # The relay and the handlers run in a worker in production: here (tasks run eagerly) their
    # queries would be counted too.
    sent = []
    monkeypatch.setattr(
        tasks.relay_event, "apply_async", lambda kwargs, **options: sent.append(kwargs)
    )
    world = make_world(products=8)
    warm = customer_client.post(
        CHECKOUT, checkout_body(world), format="json", headers={"Idempotency-Key": "warm"}
    )
    assert warm.status_code == 201, warm.json()  # the hub lookup is cached from here on

    with django_assert_max_num_queries(MAX_QUERIES_POSTGRES):
        response = customer_client.post(
            CHECKOUT, checkout_body(world), format="json", headers={"Idempotency-Key": "measured"}
        )
    assert response.status_code == 201, response.json()
    assert sent  # OrderPlaced was handed on


@pytest.mark.django_db(transaction=True)
def test_an_eight_line_reservation_is_one_statement(django_assert_num_queries):
    from datetime import timedelta

    from fulfillment import services as fulfillment

    world = make_world(products=8)
    lines = [fulfillment.StockLine(product_id=p.id, quantity=2) for p in world.products]
    with django_assert_num_queries(1):
        fulfillment.stock_reserve(
            hub_code=world.hub.code, lines=lines, hold_for=timedelta(minutes=5), reference="one"
        )
    assert fulfillment.stock_verify(hub_code=world.hub.code) == ()
