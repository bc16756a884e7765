"""The payment provider is called with a timeout: a slow processor answers within it or is
given up on as unavailable, never waited for without end."""

import time

import pytest

from ordering.payments import ProviderUnavailable, provider_get

pytestmark = pytest.mark.django_db


def test_a_slow_processor_within_the_timeout_approves(settings):
    settings.ORDERING_SANDBOX_SLOW_SECONDS = 0.05

    hold = provider_get().authorize(
        token="tok_slow", amount_minor=500, currency="USD", idempotency_key="slow-1"
    )

    assert hold.reference.startswith("sbx_auth_")


def test_a_processor_slower_than_the_timeout_is_given_up_on_at_the_timeout(settings):
    settings.ORDERING_SANDBOX_SLOW_SECONDS = 30
    settings.ORDERING_PAYMENT_TIMEOUT_SECONDS = 0.2
    started = time.monotonic()

    with pytest.raises(ProviderUnavailable):
        provider_get().authorize(
            token="tok_slow", amount_minor=500, currency="USD", idempotency_key="slow-2"
        )

    assert time.monotonic() - started < 2
