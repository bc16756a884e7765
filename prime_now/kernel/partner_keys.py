"""Partner API keys (djangorestframework-api-key): named, scoped, expiring, revocable.

A key is `<prefix>.<secret>`; only the prefix and a SHA-512 hash of the whole key are stored,
and the plain key is returned once, by `key_issue`. `key_check` runs on every request that
sends one: it reads the key from the database each time (no process keeps a copy), so a key
revoked or expired is refused on the very next request in every process.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from .errors import ApplicationError
from .models import ApiScope, PartnerKey

# A key's last use is written at most this often (a busy partner's key is not one UPDATE per
# request); the admin and `manage.py apikey list` show it to this precision.
LAST_USED_PRECISION = timedelta(minutes=1)

__all__ = [
    "ApiScope",
    "KeyRefused",
    "PartnerKey",
    "key_check",
    "key_issue",
    "key_revoke",
]


class KeyRefused(Exception):
    """The key cannot be used: unknown, revoked, expired, or its account deactivated."""


class KeyUnknownError(ApplicationError):
    status = 404
    code = "api_key_not_found"
    default_message = "No API key has that prefix."


def key_issue(
    *,
    account: AbstractBaseUser,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
) -> tuple[PartnerKey, str]:
    """A new key for this partner's account; the plain key is returned once, never stored."""
    chosen = sorted({ApiScope(scope).value for scope in scopes})
    key, plain = PartnerKey.objects.create_key(
        account=account, name=name, scopes=chosen, expiry_date=expires_at
    )
    return cast(PartnerKey, key), plain


def key_revoke(*, prefix: str) -> PartnerKey:
    """Revoke the key with this prefix (for good: a revoked key cannot be restored)."""
    key = PartnerKey.objects.filter(prefix=prefix).first()
    if key is None:
        raise KeyUnknownError(fields={"prefix": prefix})
    if not key.revoked:
        key.revoked = True
        key.save(update_fields=["revoked"])
    return key


def key_check(plain: str) -> PartnerKey:
    """The usable key this plain key is (its last use recorded), else KeyRefused."""
    prefix, _, _ = plain.partition(".")
    key = PartnerKey.objects.select_related("account").filter(prefix=prefix).first()
    if key is None or not key.is_valid(plain):
        raise KeyRefused("Unknown API key.")
    if key.revoked:
        raise KeyRefused("This API key was revoked.")
    now = timezone.now()
    if key.expiry_date is not None and key.expiry_date <= now:
        raise KeyRefused("This API key has expired.")
    if not key.account.is_active:
        raise KeyRefused("This API key's account is deactivated.")
    if key.last_used is None or now - key.last_used >= LAST_USED_PRECISION:
        PartnerKey.objects.filter(pk=key.pk).update(last_used=now)
        key.last_used = now
    return key
