"""Payments behind a provider interface (see base.py); `sandbox` is the built-in provider."""

from typing import Any, cast

from django.conf import settings
from django.utils.module_loading import import_string

from prime_now.kernel.breakers import BreakerOpenError, answers, guarded
from prime_now.kernel.faults import InjectedFault, fault_point

from .base import (
    Authorization,
    CardDeclined,
    PaymentProvider,
    ProviderRefused,
    ProviderUnavailable,
)

# The provider's refusals are answers about this payment, not a sick provider.
answers(CardDeclined, ProviderRefused)

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
    """The configured provider (ORDERING_PAYMENT_PROVIDER, default "sandbox"), or one by name,
    behind the `payment` fault point and circuit breaker (GuardedProvider).

    A real processor plugs in with ORDERING_PAYMENT_PROVIDERS = {"name": "dotted.path.Class"}.
    """
    name = name or getattr(settings, "ORDERING_PAYMENT_PROVIDER", "sandbox")
    paths = {**BUILT_IN, **getattr(settings, "ORDERING_PAYMENT_PROVIDERS", {})}
    if name not in paths:
        raise LookupError(f"Unknown payment provider {name!r}")
    return cast(PaymentProvider, GuardedProvider(import_string(paths[name])()))


class GuardedProvider:
    """A provider whose every call passes the `payment` fault point and breaker. An open
    breaker, an injected fault or a call that raised something other than the provider's
    own answers is ProviderUnavailable, which ordering already handles (a checkout is
    refused honestly; a capture or void is retried)."""

    def __init__(self, provider: PaymentProvider) -> None:
        self._provider = provider
        self.name = provider.name

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self._provider, operation)

        def call(**kwargs: Any) -> Any:
            try:
                return guarded("payment", self._faulty, method, kwargs)
            except (BreakerOpenError, InjectedFault) as exc:
                raise ProviderUnavailable("provider_unavailable", str(exc)) from exc

        return call

    @staticmethod
    def _faulty(method: Any, kwargs: dict[str, Any]) -> Any:
        fault_point("payment")
        return method(**kwargs)
