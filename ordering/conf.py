"""Ordering's tunables; each may be overridden in settings under the same name."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def max_tip() -> Decimal:
    return Decimal(_get("ORDERING_MAX_TIP", "100.00"))


def guest_cart_ttl() -> timedelta:
    return timedelta(days=_get("ORDERING_GUEST_CART_DAYS", 14))


def user_cart_ttl() -> timedelta:
    return timedelta(days=_get("ORDERING_USER_CART_DAYS", 90))
