"""Users' API tokens (django-rest-knox): one per device, hashed at rest, sliding expiry.

A token is refused at once, in every process, when it is deleted (logout, logout-all), when
its user is deactivated, or when the password changes: each request looks the token up and
compares its `credentials` stamp with the user's current password hash.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.crypto import salted_hmac
from knox.settings import knox_settings

from .models import DeviceToken

# Signing in on yet another device drops the least recently issued tokens beyond this many.
MAX_TOKENS_PER_USER = 20


def credentials_stamp(user: AbstractBaseUser) -> str:
    """A keyed hash of the user's password hash: it changes when the password does."""
    return salted_hmac("prime_now.kernel.tokens", user.password, algorithm="sha256").hexdigest()


def token_issue(*, user: AbstractBaseUser, device: str = "") -> tuple[DeviceToken, str]:
    """A new token for this user and device; the plain token is returned once, never stored."""
    token, plain = DeviceToken.objects.create(
        user=user,
        expiry=knox_settings.TOKEN_TTL,
        device=device,
        credentials=credentials_stamp(user),
    )
    stale = DeviceToken.objects.filter(user=user).order_by("-created")[MAX_TOKENS_PER_USER:]
    DeviceToken.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return token, plain


def token_revoke(*, token: DeviceToken) -> None:
    """Log one device out."""
    DeviceToken.objects.filter(pk=token.pk).delete()


def tokens_revoke_all(*, user_id: int) -> int:
    """Log every device of this user out; returns how many tokens were revoked."""
    deleted: int = DeviceToken.objects.filter(user_id=user_id).delete()[0]
    return deleted
