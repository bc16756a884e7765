"""A JSON body's values must have the JSON types the schema gives: DRF alone would take 1 for
true and "2" for 2, which the schema (and so a generated client) does not allow."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_number_for_a_boolean_is_refused_with_the_field_named(customer_client):
    response = customer_client.post(
        "/api/v1/addresses",
        {"label": "Home", "address": "1 Pike St", "postcode": "98101", "make_default": 1},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"make_default": ["Must be a boolean."]}


def test_a_string_for_an_integer_is_refused_with_the_other_fields_errors(customer_client):
    response = customer_client.post(
        "/api/v1/cart/lines", {"sku": "", "quantity": "2"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"sku", "quantity"}
    assert response.json()["error"]["fields"]["quantity"] == ["Must be an integer."]


def test_a_number_for_a_string_is_refused(customer_client):
    response = customer_client.post(
        "/api/v1/addresses",
        {"label": "Home", "address": "1 Pike St", "postcode": 98101},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"postcode": ["Must be a string."]}
