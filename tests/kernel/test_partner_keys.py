"""Partner API keys (djangorestframework-api-key): hashed, shown once, scoped, expiring,
revocable at once in every process; issued and revoked in the admin and by `manage.py apikey`."""

from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from ordering import services as ordering
from prime_now.kernel.models import PartnerKey
from prime_now.kernel.partner_keys import key_revoke
from tests.catalog.factories import ProductFactory
from tests.delivery.facade.conftest import checkout_body, make_world
from tests.kernel.factories import UserFactory, partner_key
from tests.kernel.server import web_server

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/catalog/products"
PROMISE = "/api/v1/delivery/promise"
CHECKOUT = "/api/v1/checkout"


def with_key(client, plain):
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    return client


def error(response):
    return response.json()["error"]


# --- the key itself ------------------------------------------------------------------------


def test_a_key_is_prefixed_and_only_its_hash_is_stored():
    key, plain = partner_key("catalog:read")

    prefix, _, secret = plain.partition(".")
    assert prefix == key.prefix and len(secret) == 32
    stored = PartnerKey.objects.get()
    assert plain not in (stored.pk, stored.hashed_key) and secret not in stored.hashed_key
    assert stored.hashed_key.startswith("sha512$$")


def test_a_key_holds_only_known_scopes():
    with pytest.raises(ValueError):
        partner_key("catalog:write")


# --- what a key opens ----------------------------------------------------------------------


def test_a_catalog_key_reads_the_catalog(api_client):
    ProductFactory()
    _, plain = partner_key("catalog:read")

    response = with_key(api_client, plain).get(PRODUCTS)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_a_key_without_the_scope_is_403_in_the_error_shape(api_client):
    _, plain = partner_key("promise:read")

    response = with_key(api_client, plain).get(PRODUCTS)

    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    assert "catalog:read" in error(response)["message"]


def test_a_promise_key_asks_the_promise_but_not_the_catalog(api_client):
    world = make_world(products=1)
    _, plain = partner_key("promise:read")
    client = with_key(api_client, plain)

    promise = client.get(PROMISE, {"postcode": "98101", "basket": world.products[0].sku})

    assert promise.status_code == 200
    assert promise.json()["hub_code"] == world.hub.code
    assert client.get(PRODUCTS).status_code == 403


def test_the_public_reads_stay_open_without_a_key(api_client):
    assert api_client.get(PRODUCTS).status_code == 200


def test_a_key_opens_no_endpoint_that_takes_no_keys(api_client):
    _, plain = partner_key()  # every scope

    for path in ("/api/v1/cart", "/api/v1/me", "/api/v1/orders", "/api/v1/addresses"):
        response = with_key(api_client, plain).get(path)
        assert response.status_code == 401, path
        assert error(response)["code"] == "not_authenticated"


@pytest.mark.django_db(transaction=True)
def test_an_orders_key_places_an_order_for_the_partners_customer(api_client):
    # Given a partner whose key may place orders
    world = make_world()
    key, plain = partner_key("orders:write")

    # When it checks out for its customer, to the customer's address
    response = with_key(api_client, plain).post(
        CHECKOUT, checkout_body(world), format="json", headers={"Idempotency-Key": "acme-1"}
    )

    # Then the order is the partner account's and records the key that placed it
    assert response.status_code == 201, response.json()
    order = ordering.order_get(number=response.json()["order_number"])
    assert order.customer_id == key.account_id
    assert order.partner_key == key.prefix
    assert order.delivery.address == "1 Pike St, Seattle"


@pytest.mark.django_db(transaction=True)
def test_a_customers_order_records_no_partner_key(customer_client, customer):
    world = make_world()

    response = customer_client.post(
        CHECKOUT, checkout_body(world), format="json", headers={"Idempotency-Key": "k-1"}
    )

    assert ordering.order_get(number=response.json()["order_number"]).partner_key == ""


def test_a_key_without_orders_write_cannot_check_out(api_client):
    world = make_world()
    _, plain = partner_key("catalog:read", "promise:read", "tracking:read")

    response = with_key(api_client, plain).post(
        CHECKOUT, checkout_body(world), format="json", headers={"Idempotency-Key": "acme-1"}
    )

    assert response.status_code == 403
    assert "orders:write" in error(response)["message"]


@pytest.mark.django_db(transaction=True)
def test_a_tracking_key_reads_its_partners_orders_and_their_tracking(api_client):
    world = make_world()
    account = UserFactory(username="acme")
    _, writer = partner_key("orders:write", account=account)
    _, reader = partner_key("tracking:read", account=account)
    number = (
        with_key(api_client, writer)
        .post(CHECKOUT, checkout_body(world), format="json", headers={"Idempotency-Key": "a-1"})
        .json()["order_number"]
    )

    client = with_key(api_client, reader)
    order = client.get(f"/api/v1/orders/{number}")
    tracking = client.get(f"/api/v1/orders/{number}/tracking")

    assert order.status_code == 200 and order.json()["number"] == number
    assert tracking.status_code == 200 and tracking.json()["status"] == "placed"


@pytest.mark.django_db(transaction=True)
def test_a_tracking_key_does_not_see_another_accounts_orders(api_client, customer_client):
    world = make_world()
    number = customer_client.post(
        CHECKOUT, checkout_body(world), format="json", headers={"Idempotency-Key": "k-1"}
    ).json()["order_number"]
    _, plain = partner_key("tracking:read")

    response = with_key(api_client, plain).get(f"/api/v1/orders/{number}/tracking")

    assert response.status_code == 404


def test_an_orders_key_cannot_read_orders(api_client):
    _, plain = partner_key("orders:write")

    response = with_key(api_client, plain).get("/api/v1/orders/PN-AAAA-BBBB")

    assert response.status_code == 403
    assert "tracking:read" in error(response)["message"]


# --- refused keys --------------------------------------------------------------------------


def test_an_unknown_key_is_401_with_the_api_key_challenge(api_client):
    response = with_key(api_client, "nosuchpr.abcdefghijklmnopqrstuvwxyz012345").get(PRODUCTS)

    assert response.status_code == 401
    assert error(response) == {
        "code": "authentication_failed",
        "message": "Unknown API key.",
        "fields": {},
    }
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_known_prefix_with_a_wrong_secret_is_refused(api_client):
    key, _ = partner_key("catalog:read")

    response = with_key(api_client, f"{key.prefix}.{'x' * 32}").get(PRODUCTS)

    assert response.status_code == 401
    assert error(response)["message"] == "Unknown API key."


def test_a_revoked_key_is_refused(api_client):
    key, plain = partner_key("catalog:read")
    assert with_key(api_client, plain).get(PRODUCTS).status_code == 200

    key_revoke(prefix=key.prefix)

    response = with_key(api_client, plain).get(PRODUCTS)
    assert response.status_code == 401
    assert error(response)["message"] == "This API key was revoked."


def test_an_expired_key_is_refused(api_client):
    _, plain = partner_key("catalog:read", expires_at=timezone.now() - timedelta(seconds=1))

    response = with_key(api_client, plain).get(PRODUCTS)

    assert response.status_code == 401
    assert error(response)["message"] == "This API key has expired."


def test_a_key_works_until_it_expires(api_client):
    _, plain = partner_key("catalog:read", expires_at=timezone.now() + timedelta(days=1))

    assert with_key(api_client, plain).get(PRODUCTS).status_code == 200


def test_a_key_of_a_deactivated_account_is_refused(api_client):
    key, plain = partner_key("catalog:read")
    get_user_model().objects.filter(pk=key.account_id).update(is_active=False)

    response = with_key(api_client, plain).get(PRODUCTS)

    assert response.status_code == 401
    assert "deactivated" in error(response)["message"]


def test_revoking_cannot_be_undone():
    key, _ = partner_key("catalog:read")
    key_revoke(prefix=key.prefix)

    key = PartnerKey.objects.get()
    key.revoked = False
    with pytest.raises(Exception, match="cannot be undone"):
        key.save()


# --- last use ------------------------------------------------------------------------------


def test_a_keys_last_use_is_recorded(api_client):
    key, plain = partner_key("catalog:read")
    assert key.last_used is None

    with_key(api_client, plain).get(PRODUCTS)

    key.refresh_from_db()
    assert timezone.now() - key.last_used < timedelta(seconds=30)


def test_the_last_use_is_written_at_most_once_a_minute(api_client):
    key, plain = partner_key("catalog:read")
    recent = timezone.now() - timedelta(seconds=20)
    PartnerKey.objects.filter(pk=key.pk).update(last_used=recent)

    with_key(api_client, plain).get(PRODUCTS)

    key.refresh_from_db()
    assert key.last_used == recent


def test_a_last_use_older_than_a_minute_is_moved_forward(api_client):
    key, plain = partner_key("catalog:read")
    old = timezone.now() - timedelta(minutes=5)
    PartnerKey.objects.filter(pk=key.pk).update(last_used=old)

    with_key(api_client, plain).get(PRODUCTS)

    key.refresh_from_db()
    assert key.last_used > old + timedelta(minutes=4)


# --- operators: the admin and manage.py apikey ---------------------------------------------


def test_an_operator_issues_a_key_in_the_admin_and_sees_it_once(admin_client):
    account = UserFactory(username="acme")

    response = admin_client.post(
        "/admin/kernel/partnerkey/add/",
        {"name": "Acme shop", "account": account.pk, "scopes": ["catalog:read", "orders:write"]},
        follow=True,
    )

    key = PartnerKey.objects.get()
    assert key.account == account and key.scopes == ["catalog:read", "orders:write"]
    page = response.content.decode()
    assert f"The API key for Acme shop is: {key.prefix}." in page
    later = admin_client.get(f"/admin/kernel/partnerkey/{key.pk}/change/").content.decode()
    shown = page.split("is: ")[1].split(".")[1][:32]
    assert shown not in later


def test_renaming_a_key_in_the_admin_keeps_its_owner_and_scopes(admin_client):
    key, _ = partner_key("catalog:read", "tracking:read")

    response = admin_client.post(
        f"/admin/kernel/partnerkey/{key.pk}/change/", {"name": "Acme (renamed)"}, follow=True
    )

    assert response.status_code == 200
    key.refresh_from_db()
    assert key.name == "Acme (renamed)"
    assert key.scopes == ["catalog:read", "tracking:read"]


def test_an_operator_revokes_keys_from_the_admin(admin_client):
    key, _ = partner_key("catalog:read")

    admin_client.post(
        "/admin/kernel/partnerkey/",
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )

    key.refresh_from_db()
    assert key.revoked


def test_the_librarys_own_key_model_is_not_in_the_admin(admin_client):
    assert admin_client.get("/admin/rest_framework_api_key/apikey/").status_code == 404


def test_apikey_create_prints_the_key_once(api_client):
    UserFactory(username="acme")
    out, err = StringIO(), StringIO()

    call_command(
        "apikey", "create", "--account", "acme", "--name", "Acme", "--scope", "catalog:read",
        "--expires-days", "30", stdout=out, stderr=err,
    )  # fmt: skip

    plain = out.getvalue().strip()
    key = PartnerKey.objects.get()
    assert plain.startswith(f"{key.prefix}.")
    assert key.scopes == ["catalog:read"]
    assert timedelta(days=29) < key.expiry_date - timezone.now() <= timedelta(days=30)
    assert with_key(api_client, plain).get(PRODUCTS).status_code == 200


def test_apikey_create_refuses_an_unknown_account():
    with pytest.raises(CommandError, match="No active user named 'nobody'"):
        call_command(
            "apikey", "create", "--account", "nobody", "--name", "x", "--scope", "catalog:read"
        )


def test_apikey_create_refuses_an_unknown_scope():
    UserFactory(username="acme")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("apikey", "create", "--account", "acme", "--name", "x", "--scope", "all")


def test_apikey_list_shows_each_keys_state():
    live, _ = partner_key("catalog:read", name="live")
    gone, _ = partner_key("catalog:read", name="gone")
    key_revoke(prefix=gone.prefix)
    out = StringIO()

    call_command("apikey", "list", "--all", stdout=out)

    lines = out.getvalue().splitlines()
    assert any(line.startswith(f"{live.prefix}\tactive\tlive") for line in lines)
    assert any(line.startswith(f"{gone.prefix}\trevoked\tgone") for line in lines)


def test_apikey_revoke_revokes(api_client):
    key, plain = partner_key("catalog:read")

    call_command("apikey", "revoke", key.prefix, stdout=StringIO())

    assert with_key(api_client, plain).get(PRODUCTS).status_code == 401


def test_apikey_revoke_of_an_unknown_prefix_fails():
    with pytest.raises(CommandError, match="No API key has that prefix"):
        call_command("apikey", "revoke", "nosuchpr")


# --- the schema ----------------------------------------------------------------------------


def test_the_schema_documents_the_partner_key_scheme(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    scheme = schema["components"]["securitySchemes"]["partnerKeyAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    products = schema["paths"][PRODUCTS]["get"]["security"]
    assert {"partnerKeyAuth": []} in products and {} in products
    assert {"partnerKeyAuth": []} in schema["paths"][CHECKOUT]["post"]["security"]
    assert {"partnerKeyAuth": []} not in schema["paths"]["/api/v1/cart"]["get"]["security"]


# --- in another process --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_key_revoked_here_is_refused_by_another_process_on_its_next_request():
    # Given a key that works in a server process
    key, plain = partner_key("catalog:read")
    with web_server() as url:

        def products() -> int:
            headers = {"Authorization": f"Api-Key {plain}"}
            return requests.get(f"{url}{PRODUCTS}", headers=headers, timeout=10).status_code

        assert products() == 200

        # When this process revokes it
        key_revoke(prefix=key.prefix)

        # Then the server refuses it on the very next request
        assert products() == 401
