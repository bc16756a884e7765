"""The API's token authentication is DRF's own: every call looks its token up, so a token
deleted or a user deactivated is refused at once, in every process."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token, TokenProxy

from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_token_signs_its_user_in(api_client):
    user = UserFactory(username="ana", email="ana@example.com", roles=["customer"])
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    me = api_client.get("/api/v1/me").json()

    assert me["id"] == user.pk
    assert me["username"] == "ana"
    assert me["email"] == "ana@example.com"
    assert me["roles"] == ["customer"]


def test_an_unknown_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = api_client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid token."


def test_an_inactive_user_is_refused(api_client):
    user = UserFactory(username="ana")
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = api_client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User inactive or deleted."


def test_the_api_uses_drfs_token_authentication_first(api_client):
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_AUTHENTICATION_CLASSES[0] is TokenAuthentication
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_deleted_token_is_refused_at_once(api_client):
    token = Token.objects.create(user=UserFactory())
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    api_client.get("/api/v1/me")

    token.delete()
    response = api_client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid token."


def test_a_user_deactivated_after_a_call_is_refused_at_once(api_client):
    user = UserFactory()
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    api_client.get("/api/v1/me")

    user.is_active = False
    user.save()
    response = api_client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User inactive or deleted."


def test_a_token_given_to_another_user_in_the_admin_answers_for_that_user_at_once():
    # Given a token that has signed in its first user
    token = Token.objects.create(user=UserFactory())
    authentication = TokenAuthentication()
    authentication.authenticate_credentials(token.key)
    # When an operator gives it to another user (the admin edits DRF's proxy model)
    other = UserFactory()
    proxy = TokenProxy.objects.get(pk=token.pk)
    proxy.user = other
    proxy.save()
    # Then it signs in that user, not the first
    found_user, _token = authentication.authenticate_credentials(token.key)
    assert found_user == other


def test_a_user_deactivated_where_no_signal_is_sent_is_refused_at_once(api_client):
    # Given a token that just signed its user in
    user = UserFactory()
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/me").status_code == 200

    # When the user is deactivated as another process would (a bulk update: no signal here)
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    response = api_client.get("/api/v1/me")

    # Then the next call is refused
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User inactive or deleted."


def test_a_token_deleted_where_no_signal_is_sent_is_refused_at_once(api_client):
    # Given a token that just signed its user in
    token = Token.objects.create(user=UserFactory())
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/me").status_code == 200

    # When another process deletes it (plain SQL: no signal here)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Token._meta.db_table} WHERE key = %s", [token.key])
    response = api_client.get("/api/v1/me")

    # Then the next call is refused
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid token."
