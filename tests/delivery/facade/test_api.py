"""The façade over HTTP: GET /api/v1/delivery/promise and POST /api/v1/checkout."""

import pytest
from django.urls import reverse

from delivery.api.facade_serializers import SKU_MAX_LENGTH
from delivery.models import Checkout, CheckoutStatus
from ordering import services as ordering

from .conftest import DECLINED, checkout_body

pytestmark = pytest.mark.django_db(transaction=True)

PROMISE = "/api/v1/delivery/promise"
CHECKOUT = "/api/v1/checkout"


def post(client, data, key="key-1"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(CHECKOUT, data, format="json", headers=headers)


def test_the_urls_are_where_the_doors_say():
    assert reverse("v1:delivery:delivery-promise") == PROMISE
    assert reverse("v1:delivery:checkout-place") == CHECKOUT


def test_anyone_may_ask_for_the_promise(api_client, world):
    response = api_client.get(PROMISE, {"postcode": "98101", "basket": world.products[0].sku})

    assert response.status_code == 200
    assert response.json()["hub_code"] == world.hub.code
    assert response.json()["windows"][0]["id"] == world.window.pk
    assert response.json()["unavailable_skus"] == []


def test_the_promise_needs_a_postcode_or_a_point(api_client):
    response = api_client.get(PROMISE, {"lat": "47.6"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_a_promise_basket_longer_than_a_full_basket_of_skus_is_refused(api_client):
    # 50 lines of the longest SKUs and their commas fit; one more does not
    skus = ",".join("S" * SKU_MAX_LENGTH for _ in range(51))

    response = api_client.get(PROMISE, {"postcode": "98101", "basket": skus})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["basket"]


def test_a_checkout_creates_the_order(customer_client, customer, world):
    response = post(customer_client, checkout_body(world))

    assert response.status_code == 201, response.json()
    number = response.json()["order_number"]
    assert ordering.order_get(number=number, customer_id=customer.pk).status == "placed"
    assert response.json()["window"]["booked"] == 1


def test_checkout_needs_a_signed_in_customer(api_client, world):
    assert post(api_client, checkout_body(world)).status_code == 401


def test_checkout_without_an_idempotency_key_is_a_bad_request(customer_client, world):
    response = post(customer_client, checkout_body(world), key=None)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_missing"


def test_a_retry_replays_the_first_response(customer_client, customer, world):
    first = post(customer_client, checkout_body(world))
    again = post(customer_client, checkout_body(world))

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(ordering.orders_for_customer(customer_id=customer.pk)) == 1


def test_a_replayed_failure_keeps_its_status_and_body(customer_client, world):
    first = post(customer_client, checkout_body(world, payment_token=DECLINED))
    again = post(customer_client, checkout_body(world, payment_token=DECLINED))

    assert first.status_code == again.status_code == 402
    assert again.json() == first.json()
    assert first.json()["error"]["code"] == "payment_declined"
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_unprocessable(customer_client, world):
    post(customer_client, checkout_body(world))

    response = post(customer_client, checkout_body(world, tip="9.00"))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_a_retry_while_the_first_is_running_is_a_conflict(customer_client, world):
    # Given a first request still running (its checkout record started a moment ago)
    post(customer_client, checkout_body(world, payment_token=DECLINED))
    Checkout.objects.update(status=CheckoutStatus.STARTED)

    response = post(customer_client, checkout_body(world, payment_token=DECLINED))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "checkout_in_progress"


def test_an_invalid_basket_is_refused_field_by_field(customer_client, world):
    response = post(customer_client, checkout_body(world, lines=[{"sku": "X", "quantity": 0}]))

    assert response.status_code == 400
    assert "lines" in response.json()["error"]["fields"]


def test_errors_use_the_one_json_shape_and_name_the_cause(customer_client, world):
    response = post(
        customer_client,
        checkout_body(world, lines=[{"sku": world.products[0].sku, "quantity": 11}]),
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "out_of_stock"
    assert error["fields"]["shortages"][0]["sku"] == world.products[0].sku


def test_the_schema_documents_both_operations(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"})

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/checkout" in paths and "/api/v1/delivery/promise" in paths


def test_the_api_takes_at_most_what_ordering_allows_of_one_item(customer_client, world):
    too_many = ordering.BASKET_LIMITS.max_line_quantity + 1

    response = post(
        customer_client,
        checkout_body(world, lines=[{"sku": world.products[0].sku, "quantity": too_many}]),
    )

    assert response.status_code == 400
    assert "lines" in response.json()["error"]["fields"]
