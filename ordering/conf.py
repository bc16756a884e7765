"""Ordering's tunables; each may be overridden in settings under the same name."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def max_line_quantity() -> int:
    return _get("ORDERING_CART_MAX_LINE_QUANTITY", 20)


def max_cart_lines() -> int:
    return _get("ORDERING_CART_MAX_LINES", 50)


def max_order_lines() -> int:
    return _get("ORDERING_ORDER_MAX_LINES", 100)


def max_tip() -> Decimal:
    return Decimal(_get("ORDERING_MAX_TIP", "100.00"))


def guest_cart_ttl() -> timedelta:
    return timedelta(days=_get("ORDERING_GUEST_CART_DAYS", 14))


def user_cart_ttl() -> timedelta:
    return timedelta(days=_get("ORDERING_USER_CART_DAYS", 90))
