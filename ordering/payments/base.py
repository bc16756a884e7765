"""The seam for a payment processor.

The order's life drives four calls: authorize the order total at placement, reduce the
authorization when picking comes up short, capture the picked amount on delivery, and void
(before capture) or refund (after capture) on cancellation, failed delivery or refund.
Amounts cross as integer minor units (cents). A provider never sees or keeps an order model,
and ordering never keeps a card number or token: only the provider's reference.

Every call returns or raises within ORDERING_PAYMENT_TIMEOUT_SECONDS (a provider passes it to
its HTTP client; a call that runs out raises ProviderUnavailable), so a slow processor holds
one request worker for that long at most.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Authorization:
    reference: str
    amount_minor: int
    brand: str = ""


class PaymentProviderError(Exception):
    def __init__(self, reason: str, message: str = "") -> None:
        self.reason = reason
        super().__init__(message or reason)


class CardDeclined(PaymentProviderError):
    """The card network said no. `reason`: "card_declined", "insufficient_funds",
    "expired_card", "incorrect_cvc", "invalid_token"."""


class ProviderUnavailable(PaymentProviderError):
    """A transient failure (network, processor error): try again later."""


class ProviderRefused(PaymentProviderError):
    """The operation is not possible on this payment (e.g. capture more than authorized)."""


class PaymentProvider(Protocol):
    name: str

    def authorize(
        self, *, token: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> Authorization:
        """Hold the amount on the card. Same idempotency key, same authorization."""
        ...

    def reduce(self, *, reference: str, amount_minor: int) -> None:
        """Release part of an uncaptured authorization (a partial reversal)."""
        ...

    def capture(self, *, reference: str, amount_minor: int) -> None:
        """Take up to the authorized amount; the rest of the hold is released."""
        ...

    def void(self, *, reference: str) -> None:
        """Release an uncaptured authorization entirely. Idempotent."""
        ...

    def refund(self, *, reference: str, amount_minor: int) -> None:
        """Give back part or all of a captured amount."""
        ...

    def open_authorizations(
        self, *, created_before: datetime, limit: int, starting_after: str = ""
    ) -> list[str]:
        """One page (at most `limit`) of the references of authorizations still held (neither
        captured nor voided) that were made before this time, newest first: what
        reconciliation checks for orphans. `starting_after`: the last reference of the page
        before (a cursor, as processors page their lists); an empty page is the end."""
        ...
