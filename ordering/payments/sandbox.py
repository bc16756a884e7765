"""The built-in `sandbox` provider: card networks' test mode, offline.

Test cards and tokens (documented in docs/ordering.md):

| card number          | token                                  | outcome                        |
| -------------------- | -------------------------------------- | ------------------------------ |
| 4242 4242 4242 4242  | tok_visa                               | approved (Visa)                |
| 5555 5555 5555 4444  | tok_mastercard                         | approved (Mastercard)          |
| 3782 822463 10005    | tok_amex                               | approved (American Express)    |
| 4000 0000 0000 0002  | tok_chargeDeclined                     | declined: card_declined        |
| 4000 0000 0000 9995  | tok_chargeDeclinedInsufficientFunds    | declined: insufficient_funds   |
| 4000 0000 0000 0069  | tok_chargeDeclinedExpiredCard          | declined: expired_card         |
| 4000 0000 0000 0127  | tok_chargeDeclinedIncorrectCvc         | declined: incorrect_cvc        |
| 4000 0000 0000 0119  | tok_chargeDeclinedProcessingError      | processor unavailable (retry)  |
| 4000 0000 0000 0259  | tok_slow                               | approved, slowly (see below)   |

Anything else is declined as `invalid_token`, as a test-mode processor refuses real cards.
`tok_slow` answers after ORDERING_SANDBOX_SLOW_SECONDS, or, when that is beyond the payment
timeout (ORDERING_PAYMENT_TIMEOUT_SECONDS), gives up at the timeout as unavailable: the fault
drills use it for a slow processor.
The sandbox keeps its own ledger (SandboxAuthorization) and refuses what a processor refuses.
"""

import secrets
import time
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from ..models import SandboxAuthorization
from .base import Authorization, CardDeclined, ProviderRefused, ProviderUnavailable

_AUTHORIZE = """
    INSERT INTO ordering_sandboxauthorization
           (reference, idempotency_key, brand, currency, authorized_minor, captured_minor,
            refunded_minor, status, created_at, updated_at)
    VALUES (%s, %s, %s, %s, %s, 0, 0, 'authorized', now(), now())
    ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
    RETURNING reference, authorized_minor, currency
"""

APPROVE = "approve"
SLOW = "slow"
UNAVAILABLE = "processing_error"

# token -> (outcome, brand)
TEST_TOKENS: dict[str, tuple[str, str]] = {
    "4242424242424242": (APPROVE, "visa"),
    "tok_visa": (APPROVE, "visa"),
    "5555555555554444": (APPROVE, "mastercard"),
    "tok_mastercard": (APPROVE, "mastercard"),
    "378282246310005": (APPROVE, "amex"),
    "tok_amex": (APPROVE, "amex"),
    "4000000000000002": ("card_declined", "visa"),
    "tok_chargeDeclined": ("card_declined", "visa"),
    "4000000000009995": ("insufficient_funds", "visa"),
    "tok_chargeDeclinedInsufficientFunds": ("insufficient_funds", "visa"),
    "4000000000000069": ("expired_card", "visa"),
    "tok_chargeDeclinedExpiredCard": ("expired_card", "visa"),
    "4000000000000127": ("incorrect_cvc", "visa"),
    "tok_chargeDeclinedIncorrectCvc": ("incorrect_cvc", "visa"),
    "4000000000000119": (UNAVAILABLE, "visa"),
    "tok_chargeDeclinedProcessingError": (UNAVAILABLE, "visa"),
    "4000000000000259": (SLOW, "visa"),
    "tok_slow": (SLOW, "visa"),
}


def normalize_token(token: str) -> str:
    """Card numbers may be typed with spaces or dashes; tokens are taken as they are."""
    stripped = token.strip()
    digits = stripped.replace(" ", "").replace("-", "")
    return digits if digits.isdigit() else stripped


class SandboxProvider:
    name = "sandbox"

    def authorize(
        self, *, token: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> Authorization:
        if amount_minor < 0:
            raise ProviderRefused("invalid_amount", "Cannot authorize a negative amount.")
        outcome, brand = TEST_TOKENS.get(normalize_token(token), ("invalid_token", ""))
        if outcome == UNAVAILABLE:
            raise ProviderUnavailable(outcome, "The sandbox processor reported an error.")
        if outcome == SLOW:
            outcome = _slow_answer()
        if outcome != APPROVE:
            raise CardDeclined(outcome)
        # One atomic statement inserts the key's row or, when a call with this key came first,
        # returns that one (a retry gets the same authorization, as at a processor). The ORM's
        # bulk_create(ignore_conflicts) cannot return the existing row: it needs a second read.
        reference = f"sbx_auth_{secrets.token_hex(12)}"
        with connection.cursor() as cursor:
            cursor.execute(_AUTHORIZE, [reference, idempotency_key, brand, currency, amount_minor])
            reference, authorized_minor, authorized_currency = cursor.fetchone()
        if authorized_minor != amount_minor or authorized_currency != currency:
            raise ProviderRefused(
                "idempotency_mismatch", "This idempotency key authorized another amount."
            )
        return Authorization(reference=reference, amount_minor=authorized_minor, brand=brand)

    def open_authorizations(
        self, *, created_before: datetime, limit: int, starting_after: str = ""
    ) -> list[str]:
        held = SandboxAuthorization.objects.filter(
            status="authorized", created_at__lt=created_before
        )
        if starting_after:
            # Keyset paging on (created_at, reference): rows voided or captured meanwhile
            # neither shift the next page nor hide a row from it.
            cursor = SandboxAuthorization.objects.filter(reference=starting_after).values_list(
                "created_at", flat=True
            )
            after = cursor.first()
            if after is None:
                raise ProviderRefused("no_such_payment", f"No sandbox payment {starting_after}.")
            held = held.filter(
                Q(created_at__lt=after) | Q(created_at=after, reference__lt=starting_after)
            )
        return list(
            held.order_by("-created_at", "-reference").values_list("reference", flat=True)[:limit]
        )

    def _locked(self, reference: str) -> SandboxAuthorization:
        row = SandboxAuthorization.objects.select_for_update().filter(reference=reference).first()
        if row is None:
            raise ProviderRefused("no_such_payment", f"No sandbox payment {reference}.")
        return row

    def reduce(self, *, reference: str, amount_minor: int) -> None:
        with transaction.atomic():
            row = self._locked(reference)
            if row.status != "authorized":
                raise ProviderRefused("not_authorized", f"Payment is {row.status}.")
            if not 0 <= amount_minor <= row.authorized_minor:
                raise ProviderRefused("invalid_amount", "Cannot release more than is held.")
            row.authorized_minor -= amount_minor
            row.save(update_fields=["authorized_minor", "updated_at"])

    def capture(self, *, reference: str, amount_minor: int) -> None:
        with transaction.atomic():
            row = self._locked(reference)
            if row.status != "authorized":
                raise ProviderRefused("not_authorized", f"Payment is {row.status}.")
            if not 0 <= amount_minor <= row.authorized_minor:
                raise ProviderRefused("amount_too_large", "Cannot capture more than authorized.")
            row.captured_minor = amount_minor
            row.status = "captured"
            row.save(update_fields=["captured_minor", "status", "updated_at"])

    def void(self, *, reference: str) -> None:
        with transaction.atomic():
            row = self._locked(reference)
            if row.status == "voided":
                return
            if row.status != "authorized":
                raise ProviderRefused("already_captured", "A captured payment is refunded.")
            row.status = "voided"
            row.save(update_fields=["status", "updated_at"])

    def refund(self, *, reference: str, amount_minor: int) -> None:
        with transaction.atomic():
            row = self._locked(reference)
            if row.status not in ("captured", "refunded"):
                raise ProviderRefused("not_captured", "Only a captured payment is refunded.")
            if not 0 < amount_minor <= row.captured_minor - row.refunded_minor:
                raise ProviderRefused("amount_too_large", "Cannot refund more than captured.")
            row.refunded_minor += amount_minor
            if row.refunded_minor == row.captured_minor:
                row.status = "refunded"
            row.save(update_fields=["refunded_minor", "status", "updated_at"])


def _slow_answer() -> str:
    """A processor that takes its time: approves after the configured delay, or gives up at
    the payment timeout as a client would."""
    delay = float(getattr(settings, "ORDERING_SANDBOX_SLOW_SECONDS", 5.0))
    timeout = float(settings.ORDERING_PAYMENT_TIMEOUT_SECONDS)
    time.sleep(min(delay, timeout))
    if delay > timeout:
        raise ProviderUnavailable("timeout", f"The processor did not answer within {timeout} s.")
    return APPROVE
