"""Payments behind a provider interface (see base.py); `sandbox` is the built-in provider."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import (
    Authorization,
    CardDeclined,
    PaymentProvider,
    ProviderRefused,
    ProviderUnavailable,
)

BUILT_IN = {"sandbox": "ordering.payments.sandbox.SandboxProvider"}

__all__ = [
    "Authorization",
    "CardDeclined",
    "PaymentProvider",
    "ProviderRefused",
    "ProviderUnavailable",
    "provider_get",
]


def provider_get(name: str | None = None) -> PaymentProvider:
    """The configured provider (ORDERING_PAYMENT_PROVIDER, default "sandbox"), or one by name.

    A real processor plugs in with ORDERING_PAYMENT_PROVIDERS = {"name": "dotted.path.Class"}.
    """
    name = name or getattr(settings, "ORDERING_PAYMENT_PROVIDER", "sandbox")
    paths = {**BUILT_IN, **getattr(settings, "ORDERING_PAYMENT_PROVIDERS", {})}
    if name not in paths:
        raise LookupError(f"Unknown payment provider {name!r}")
    return import_string(paths[name])()
