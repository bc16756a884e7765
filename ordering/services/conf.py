"""Ordering's tunables; each may be overridden in settings under the same name. (The basket
limits are not tunables: they are one rule, BASKET_LIMITS in dtos.py.)"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings


def max_tip() -> Decimal:
    return Decimal(getattr(settings, "ORDERING_MAX_TIP", "100.00"))


def guest_cart_ttl() -> timedelta:
    return timedelta(days=int(getattr(settings, "ORDERING_GUEST_CART_DAYS", 14)))


def user_cart_ttl() -> timedelta:
    return timedelta(days=int(getattr(settings, "ORDERING_USER_CART_DAYS", 90)))


def auto_refund_limit() -> Decimal:
    """A reported problem worth up to this is refunded at once; above it, support decides."""
    return Decimal(str(getattr(settings, "ORDERING_AUTO_REFUND_LIMIT", "10.00")))
