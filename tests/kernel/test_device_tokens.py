"""Users' API tokens (django-rest-knox): hashed at rest, one per device, sliding expiry,
logout and logout-all, and revoked at once when the password changes or the user is
deactivated."""

from datetime import timedelta

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from knox.settings import knox_settings

from prime_now.kernel.models import DeviceToken
from prime_now.kernel.tokens import MAX_TOKENS_PER_USER, token_issue
from tests.kernel.factories import PASSWORD, UserFactory
from tests.kernel.server import web_server

pytestmark = pytest.mark.django_db


def sign_in(client, username="ana", device="Ana's phone"):
    return client.post(
        "/api/v1/auth/token", {"username": username, "password": PASSWORD, "device": device}
    )


def with_token(client, token):
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_signing_in_gives_a_prefixed_token_whose_hash_alone_is_stored(api_client):
    UserFactory(username="ana")

    response = sign_in(api_client)

    assert response.status_code == 200
    token = response.json()["token"]
    assert token.startswith("pn_")
    stored = DeviceToken.objects.get()
    assert stored.device == "Ana's phone"
    assert token not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # sha512 hex


def test_a_token_signs_its_user_in(api_client):
    UserFactory(username="ana", roles=["customer"])
    token = sign_in(api_client).json()["token"]

    me = with_token(api_client, token).get("/api/v1/me").json()

    assert me["username"] == "ana"
    assert me["roles"] == ["customer"]


def test_each_device_gets_its_own_token(api_client):
    UserFactory(username="ana")

    phone = sign_in(api_client, device="phone").json()["token"]
    tablet = sign_in(api_client, device="tablet").json()["token"]

    assert phone != tablet
    assert sorted(DeviceToken.objects.values_list("device", flat=True)) == ["phone", "tablet"]


def test_an_unknown_token_is_401_with_the_token_challenge(api_client):
    response = with_token(api_client, "pn_not-a-token").get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_logout_revokes_this_devices_token_only(api_client):
    UserFactory(username="ana")
    phone = sign_in(api_client, device="phone").json()["token"]
    tablet = sign_in(api_client, device="tablet").json()["token"]

    response = with_token(api_client, phone).post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert with_token(api_client, phone).get("/api/v1/me").status_code == 401
    assert with_token(api_client, tablet).get("/api/v1/me").status_code == 200


def test_logout_all_revokes_every_device(api_client):
    UserFactory(username="ana")
    phone = sign_in(api_client, device="phone").json()["token"]
    tablet = sign_in(api_client, device="tablet").json()["token"]

    response = with_token(api_client, phone).post("/api/v1/auth/logout-all")

    assert response.status_code == 204
    assert with_token(api_client, phone).get("/api/v1/me").status_code == 401
    assert with_token(api_client, tablet).get("/api/v1/me").status_code == 401


def test_an_expired_token_is_refused_and_removed(api_client):
    UserFactory(username="ana")
    token = sign_in(api_client).json()["token"]
    DeviceToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    response = with_token(api_client, token).get("/api/v1/me")

    assert response.status_code == 401
    assert not DeviceToken.objects.exists()


def test_using_a_token_moves_its_expiry_forward(api_client):
    UserFactory(username="ana")
    token = sign_in(api_client).json()["token"]
    soon = timezone.now() + timedelta(hours=1)
    DeviceToken.objects.update(expiry=soon)

    with_token(api_client, token).get("/api/v1/me")

    expiry = DeviceToken.objects.get().expiry
    assert expiry > timezone.now() + knox_settings.TOKEN_TTL - timedelta(minutes=1)


def test_a_token_never_slides_past_its_maximum_life(api_client):
    UserFactory(username="ana")
    token = sign_in(api_client).json()["token"]
    created = timezone.now() - knox_settings.AUTO_REFRESH_MAX_TTL + timedelta(hours=1)
    DeviceToken.objects.update(created=created, expiry=timezone.now() + timedelta(minutes=5))

    with_token(api_client, token).get("/api/v1/me")

    assert DeviceToken.objects.get().expiry == created + knox_settings.AUTO_REFRESH_MAX_TTL


def test_signing_in_on_too_many_devices_drops_the_oldest_token():
    user = UserFactory()
    first, _ = token_issue(user=user, device="first")

    for n in range(MAX_TOKENS_PER_USER):
        token_issue(user=user, device=f"device {n}")

    assert DeviceToken.objects.filter(user=user).count() == MAX_TOKENS_PER_USER
    assert not DeviceToken.objects.filter(pk=first.pk).exists()


def test_changing_the_password_revokes_every_token(api_client):
    user = UserFactory(username="ana")
    token = sign_in(api_client).json()["token"]

    user.set_password("a-brand-new-password")
    user.save()

    response = with_token(api_client, token).get("/api/v1/me")
    assert response.status_code == 401
    assert not DeviceToken.objects.filter(user=user).exists()


def test_a_password_changed_where_no_save_runs_still_revokes_the_token(api_client):
    # Given a token in use
    user = UserFactory(username="ana")
    token = sign_in(api_client).json()["token"]
    assert with_token(api_client, token).get("/api/v1/me").status_code == 200
    # When the password changes by a bulk update (no model save, so no tidying)
    from django.contrib.auth.hashers import make_password

    get_user_model().objects.filter(pk=user.pk).update(password=make_password("new-one-here"))
    # Then the token is refused: it was issued for the old password
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert "password changed" in response.json()["error"]["message"]


def test_deactivating_the_user_revokes_every_token(api_client):
    user = UserFactory(username="ana")
    token = sign_in(api_client).json()["token"]

    user.is_active = False
    user.save()

    assert with_token(api_client, token).get("/api/v1/me").status_code == 401
    assert not DeviceToken.objects.filter(user=user).exists()


def test_a_user_deactivated_by_a_bulk_update_is_refused_at_once(api_client):
    user = UserFactory(username="ana")
    token = sign_in(api_client).json()["token"]

    get_user_model().objects.filter(pk=user.pk).update(is_active=False)

    assert with_token(api_client, token).get("/api/v1/me").status_code == 401


def test_a_wrong_password_gets_no_token(api_client):
    UserFactory(username="ana")

    response = api_client.post("/api/v1/auth/token", {"username": "ana", "password": "nope"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not DeviceToken.objects.exists()


def test_logout_needs_a_token(api_client):
    response = api_client.post("/api/v1/auth/logout")

    assert response.status_code == 401


@override_settings(REST_KNOX={**knox_settings.user_settings, "TOKEN_TTL": timedelta(minutes=5)})
def test_the_token_lifetime_is_a_setting(api_client):
    UserFactory(username="ana")

    expiry = sign_in(api_client).json()["expiry"]

    assert expiry < (timezone.now() + timedelta(minutes=6)).isoformat()


# --- in another process ------------------------------------------------------------------


@pytest.fixture
def server(transactional_db):
    with web_server() as url:
        yield url


def server_me(url: str, token: str) -> int:
    return requests.get(
        f"{url}/api/v1/me", headers={"Authorization": f"Token {token}"}, timeout=10
    ).status_code


@pytest.mark.slow
def test_a_token_revoked_here_is_refused_by_another_process_on_its_next_request(server):
    # Given a user's token, which works in the server process
    user = UserFactory(username="ana")
    _, token = token_issue(user=user, device="phone")
    assert server_me(server, token) == 200

    # When this process changes the password
    user.set_password("a-brand-new-password")
    user.save()

    # Then the server refuses the token on the very next request
    assert server_me(server, token) == 401


@pytest.mark.slow
def test_a_user_deactivated_here_is_refused_by_another_process_on_its_next_request(server):
    user = UserFactory(username="ana")
    _, token = token_issue(user=user, device="phone")
    assert server_me(server, token) == 200

    get_user_model().objects.filter(pk=user.pk).update(is_active=False)

    assert server_me(server, token) == 401


def test_an_operator_signs_a_user_out_of_every_device_from_the_admin(admin_client):
    user = UserFactory(username="ana")
    token_issue(user=user, device="phone")
    token_issue(user=user, device="tablet")

    response = admin_client.post(
        "/admin/kernel/user/",
        {"action": "sign_out_everywhere", "_selected_action": [user.pk]},
        follow=True,
    )

    assert "Revoked 2 API token(s)." in response.content.decode()
    assert not DeviceToken.objects.filter(user=user).exists()
