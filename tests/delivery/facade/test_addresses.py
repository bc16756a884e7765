"""The address book: saved addresses with a label, the postcode's coordinates and one default,
chosen at checkout by id."""

import pytest
from django.db import IntegrityError

from delivery import services as delivery
from delivery.models import SavedAddress
from tests.fulfillment.factories import HubFactory
from tests.kernel.factories import UserFactory

from .conftest import APPROVED, make_world

pytestmark = pytest.mark.django_db


def save(customer, label="Home", address="1 Pike St", postcode="98101", **extra):
    return delivery.address_save(
        customer_id=customer.pk, label=label, address=address, postcode=postcode, **extra
    )


def test_the_first_address_is_the_default_and_has_the_postcodes_coordinates(customer):
    hub = HubFactory(postcodes=["98101"])

    home = save(customer)

    assert home.is_default
    assert (home.lat, home.lon) == (pytest.approx(hub.lat), pytest.approx(hub.lon))


def test_a_postcode_no_hub_knows_is_saved_without_coordinates(customer):
    away = save(customer, postcode="00000")

    assert (away.lat, away.lon) == (None, None)


def test_making_another_address_the_default_moves_the_default(customer):
    save(customer)
    work = save(customer, label="Work", address="2 Main St", make_default=True)

    book = delivery.addresses_for(customer_id=customer.pk)

    assert [(a.label, a.is_default) for a in book] == [("Work", True), ("Home", False)]
    assert delivery.address_default(customer_id=customer.pk) == work


def test_a_label_is_used_once_per_customer(customer):
    save(customer)

    with pytest.raises(delivery.AddressLabelTakenError):
        save(customer, address="3 Other St")
    save(UserFactory(), label="Home")  # another customer's "Home" is theirs


def test_a_blank_field_is_refused_with_its_name(customer):
    from prime_now.kernel.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        save(customer, address="  ")

    assert refused.value.fields == {"address": "Required."}


def test_forgetting_the_default_makes_the_oldest_other_the_default(customer):
    home = save(customer)
    save(customer, label="Work", address="2 Main St")

    delivery.address_delete(customer_id=customer.pk, address_id=home.id)

    assert delivery.address_default(customer_id=customer.pk).label == "Work"


def test_another_customers_address_is_not_found(customer):
    theirs = save(UserFactory())

    with pytest.raises(delivery.AddressNotFoundError):
        delivery.address_get(customer_id=customer.pk, address_id=theirs.id)


def test_the_database_allows_one_default_per_customer(customer):
    save(customer)
    save(customer, label="Work", address="2 Main St")

    with pytest.raises(IntegrityError):
        SavedAddress.objects.filter(customer=customer).update(is_default=True)


def test_the_api_adds_lists_and_removes_addresses(customer_client):
    added = customer_client.post(
        "/api/v1/addresses",
        {"label": "Home", "address": "1 Pike St", "postcode": "98101"},
        format="json",
    )
    listed = customer_client.get("/api/v1/addresses")
    removed = customer_client.delete(f"/api/v1/addresses/{added.json()['id']}")

    assert added.status_code == 201 and added.json()["is_default"] is True
    assert [a["label"] for a in listed.json()["results"]] == ["Home"]
    assert removed.status_code == 204
    assert customer_client.get("/api/v1/addresses").json()["results"] == []


def test_the_api_refuses_a_label_in_use_with_409(customer_client, customer):
    save(customer)

    response = customer_client.post(
        "/api/v1/addresses",
        {"label": "Home", "address": "9 Elm St", "postcode": "98101"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "address_label_taken"


@pytest.mark.django_db(transaction=True)
def test_checkout_with_a_saved_address_delivers_there(customer_client, customer):
    world = make_world(products=1)
    home = save(customer, address="1 Pike St, Apt 4")

    response = customer_client.post(
        "/api/v1/checkout",
        {
            "lines": [{"sku": world.products[0].sku, "quantity": 1}],
            "address_id": home.id,
            "window_id": world.window.pk,
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": "saved-address"},
    )

    assert response.status_code == 201, response.json()
    from ordering import services as ordering

    order = ordering.order_get(number=response.json()["order_number"])
    assert (order.delivery.address, order.delivery.postcode) == ("1 Pike St, Apt 4", "98101")
    assert order.delivery.lat == pytest.approx(home.lat)


def test_checkout_with_another_customers_address_is_404(customer_client):
    world = make_world(products=1)
    theirs = save(UserFactory())

    response = customer_client.post(
        "/api/v1/checkout",
        {
            "lines": [{"sku": world.products[0].sku, "quantity": 1}],
            "address_id": theirs.id,
            "window_id": world.window.pk,
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": "their-address"},
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "address_not_found"


def test_checkout_refuses_an_address_id_with_a_typed_address(customer_client, customer):
    home = save(customer)

    response = customer_client.post(
        "/api/v1/checkout",
        {
            "lines": [{"sku": "ANY-1", "quantity": 1}],
            "address_id": home.id,
            "address": "elsewhere",
            "window_id": 1,
            "payment_token": APPROVED,
        },
        format="json",
        headers={"Idempotency-Key": "both"},
    )

    assert response.status_code == 400
    assert "address" in response.json()["error"]["fields"]
