"""How API callers prove who they are: a user's device token (knox) or a partner's API key."""

from typing import Any

from django.utils.crypto import constant_time_compare
from knox.auth import TokenAuthentication
from rest_framework import exceptions

from prime_now.kernel.models import DeviceToken
from prime_now.kernel.tokens import credentials_stamp


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
