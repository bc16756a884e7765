"""How API callers prove who they are: a user's device token (knox) or a partner's API key."""

from typing import TYPE_CHECKING, Any

from django.utils.crypto import constant_time_compare
from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework_api_key.permissions import KeyParser

from prime_now.kernel.models import DeviceToken, PartnerKey
from prime_now.kernel.partner_keys import KeyRefused, key_check
from prime_now.kernel.tokens import credentials_stamp

if TYPE_CHECKING:  # rest_framework.views imports this module (the default authenticators)
    from rest_framework.views import APIView


class DeviceTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`: knox's lookup (hashed, expiring, sliding), and refused
    when the password changed after the token was issued."""

    def validate_user(self, auth_token: DeviceToken) -> tuple[Any, DeviceToken]:
        user, token = super().validate_user(auth_token)
        if not constant_time_compare(token.credentials, credentials_stamp(user)):
            raise exceptions.AuthenticationFailed(
                "This token was revoked because the password changed. Sign in again."
            )
        return user, token


class PartnerKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>` (djangorestframework-api-key's header): the request acts
    as the key's partner account, `request.auth` is the key. Only views that name a scope
    (`api_key_scope`) list this authenticator, with `KeyScopes` among their permissions."""

    keyword = KeyParser.keyword
    parser = KeyParser()

    def authenticate(self, request: Request) -> tuple[Any, PartnerKey] | None:
        plain = self.parser.get_from_authorization(request._request)
        if not plain:
            return None
        try:
            key = key_check(plain.strip())
        except KeyRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        return key.account, key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class KeyScopes(BasePermission):
    """A request signed with a partner key passes only if the key holds the view's
    `api_key_scope`; requests signed otherwise (or not at all) are left to the other
    permissions."""

    message = "This API key may not do this."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        key = request.auth
        if not isinstance(key, PartnerKey):
            return True
        scope = getattr(view, "api_key_scope", None)
        if scope is None or str(scope) not in key.scopes:
            self.message = f"This API key does not have the {scope or 'needed'} scope."
            return False
        return True


def with_partner_keys() -> list[Any]:
    """A signed-in view's authenticators: partner keys, then the project's defaults."""
    return [PartnerKeyAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
