"""The address book on the storefront, and saving the address at checkout."""

import pytest

from delivery import services as delivery

from .conftest import APPROVED_CARD, POSTCODE
from .test_checkout_and_orders import checkout_form, fill_cart

pytestmark = pytest.mark.django_db(transaction=True)


def test_adding_an_address_lists_it_as_the_default(signed_in, shopper):
    response = signed_in.post(
        "/addresses/",
        {"label": "Home", "address": "1 Pike St", "postcode": POSTCODE.lower()},
        follow=True,
    )

    html = response.content.decode()
    assert "Home is saved in your address book." in html
    assert 'Home <span class="meta">(default)</span>' in html
    assert delivery.address_default(customer_id=shopper.pk).postcode == POSTCODE.upper()


def test_delivering_to_a_saved_address_sets_the_address(signed_in, shopper):
    work = delivery.address_save(
        customer_id=shopper.pk, label="Work", address="9 Work Way", postcode=POSTCODE
    )

    signed_in.post(f"/addresses/{work.id}/use/")

    assert signed_in.session["deliver_to"] == {"postcode": POSTCODE, "address": "9 Work Way"}


def test_checkout_can_save_the_address_by_name(signed_in, shop, shopper):
    fill_cart(signed_in, shop, count=1)

    signed_in.post(
        "/checkout/", {**checkout_form(signed_in), "card": APPROVED_CARD, "save_as": "Flat"}
    )

    [saved] = delivery.addresses_for(customer_id=shopper.pk)
    assert (saved.label, saved.address) == ("Flat", "1 Pike St, Apt 3")


def test_signing_in_delivers_to_the_default_address(visitor, shop, shopper):
    delivery.address_save(
        customer_id=shopper.pk, label="Home", address="1 Pike St", postcode=POSTCODE
    )
    shopper.set_password("a-long-unusual-passphrase")
    shopper.save()

    visitor.post(
        "/signin/", {"username": shopper.username, "password": "a-long-unusual-passphrase"}
    )

    assert visitor.session["deliver_to"]["address"] == "1 Pike St"
