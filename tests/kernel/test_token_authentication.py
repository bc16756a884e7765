"""The API's token authentication (prime_now.kernel.api.authentication): what DRF's class
answers, with a cheaper lookup on PostgreSQL."""

import pytest
from rest_framework.authtoken.models import Token, TokenProxy
from rest_framework.exceptions import AuthenticationFailed

from prime_now.kernel.api.authentication import TokenAuthentication
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


def test_the_user_and_token_are_whole_models():
    user = UserFactory(username="ana", first_name="Ana")
    token = Token.objects.create(user=user)

    found_user, found_token = TokenAuthentication().authenticate_credentials(token.key)

    assert found_user == user and found_token == token
    assert found_token.user is found_user
    for field in type(user)._meta.concrete_fields:
        assert getattr(found_user, field.attname) == getattr(user, field.attname), field.name
    assert found_token.created == token.created
    assert found_user.is_authenticated and not found_user._state.adding
    assert found_user.get_deferred_fields() == set()


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


def test_the_api_uses_it_token_first():
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_AUTHENTICATION_CLASSES[0] is TokenAuthentication


def test_a_token_is_looked_up_once_for_calls_in_a_row(django_assert_num_queries):
    user = UserFactory()
    token = Token.objects.create(user=user)
    authentication = TokenAuthentication()
    authentication.authenticate_credentials(token.key)

    with django_assert_num_queries(0):
        found_user, found_token = authentication.authenticate_credentials(token.key)

    assert found_user == user and found_token == token and found_token.user is found_user


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


def test_a_sign_in_keeps_the_remembered_token(django_assert_num_queries):
    user = UserFactory()
    token = Token.objects.create(user=user)
    authentication = TokenAuthentication()
    authentication.authenticate_credentials(token.key)

    user.save(update_fields=["last_login"])
    with django_assert_num_queries(0):
        found_user, _token = authentication.authenticate_credentials(token.key)

    assert found_user == user


def test_an_unknown_token_is_not_remembered(django_assert_num_queries):
    authentication = TokenAuthentication()
    with pytest.raises(AuthenticationFailed):
        authentication.authenticate_credentials("nope")

    with django_assert_num_queries(1), pytest.raises(AuthenticationFailed):
        authentication.authenticate_credentials("nope")


def test_a_token_given_to_another_user_in_the_admin_answers_for_that_user_at_once():
    # Given a token remembered for its first user
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
