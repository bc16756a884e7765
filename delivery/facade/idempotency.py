"""The checkout record: the one place checkout's idempotency lives.

The first request with a key runs; a retry with the same key and the same request gets its
result, or its error when it failed for the customer's reason; another request with the key is
refused (ordering's IdempotencyKeyReusedError, 422); a retry while the first still runs gets
409; one that failed because a service did (5xx) runs again. Keys are per customer and live
24 h. The record also keeps what the pick job needs once the order is placed.
"""

import json
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ordering.services import IdempotencyKeyReusedError
from prime_now.kernel import bus
from prime_now.kernel.errors import ApplicationError

from ..events import CheckoutRefused
from ..models import Checkout, CheckoutStatus, WindowKind
from .dtos import CheckoutResult, WindowDTO
from .errors import CheckoutFailedError, CheckoutInProgressError, IdempotencyKeyMissingError
from .windows import CONFIRM_HOLD_CTE, window_hold_confirm

KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# A checkout still "started" after this long died with its process (its transaction rolled
# back, so no order exists): a retry with the same key may run it again.
STALE_AFTER = timedelta(minutes=2)
PURGE_BATCH = 1000
CLAIM_TRIES = 3


@dataclass(frozen=True)
class PlacedCheckout:
    """What the record keeps of a placed order: where it is picked and what, and by when."""

    hub_code: str
    window_id: int
    reservation_id: str
    order_number: str
    # product_id, sku, name, quantity, substitution, substitute_sku (the pick job's lines)
    lines: tuple[dict[str, Any], ...]
    pick_due_by: datetime
    total: Decimal
    currency: str


# What a fingerprint never covers: the card (its number or the provider's token) is not kept in
# any form, not even hashed. A retry with another card is the same request.
UNHASHED_FIELDS = frozenset({"payment_token"})
_FINGERPRINT_SALT = "prime_now.delivery.checkout.request"


def request_fingerprint(payload: dict[str, Any], *, secret: str | bytes | None = None) -> str:
    """A stable keyed hash (HMAC-SHA256 under the SECRET_KEY) of a request body without its
    payment token; key order and whitespace do not matter. Keyed, so the stored value tells
    nothing about the address or basket to whoever reads the table without the key."""
    kept = {name: value for name, value in payload.items() if name not in UNHASHED_FIELDS}
    canonical = json.dumps(kept, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return salted_hmac(_FINGERPRINT_SALT, canonical, secret=secret, algorithm="sha256").hexdigest()


def request_fingerprints(payload: dict[str, Any]) -> tuple[str, ...]:
    """The fingerprint under the SECRET_KEY, then under each of SECRET_KEY_FALLBACKS: a retry
    still matches its first request across a key rotation."""
    secrets = (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    return tuple(request_fingerprint(payload, secret=secret) for secret in secrets)


def idempotency_key_check(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise IdempotencyKeyMissingError()
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyMissingError(
            f"The Idempotency-Key is too long (at most {MAX_KEY_LENGTH} characters).",
            fields={"idempotency_key": "too long"},
        )
    return key


def checkout_claim(
    *, customer_id: int, key: str, request_hashes: tuple[str, ...]
) -> tuple[Checkout, CheckoutResult | None]:
    """The checkout record for this key: new, or the earlier run's (its result replayed when
    placed, its error raised again when it failed for the customer's reason). A new record
    keeps the first of `request_hashes`; an earlier one matches when it kept any of them."""
    for _ in range(CLAIM_TRIES):
        checkout = _insert_new(customer_id=customer_id, key=key, request_hash=request_hashes[0])
        if checkout is not None:
            return checkout, None
        existing = Checkout.objects.filter(customer_id=customer_id, idempotency_key=key).first()
        if existing is not None:
            claimed = _claim_existing(existing, key=key, request_hashes=request_hashes)
            if claimed is not None:
                return claimed
    raise CheckoutInProgressError()  # the key changed hands three times: let the client retry


def _savepoint() -> AbstractContextManager[Any]:
    """A savepoint inside the caller's transaction, so that a duplicate key does not break it;
    outside one the INSERT stands alone (no BEGIN/COMMIT round trips)."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _insert_new(*, customer_id: int, key: str, request_hash: str) -> Checkout | None:
    """A new checkout record for the key, or None when the key is taken (the unique
    constraint on customer and key decides)."""
    try:
        with _savepoint():
            return Checkout.objects.create(
                customer_id=customer_id, idempotency_key=key, request_hash=request_hash
            )
    except IntegrityError:
        return None


def _claim_existing(
    existing: Checkout, *, key: str, request_hashes: tuple[str, ...]
) -> tuple[Checkout, CheckoutResult | None] | None:
    """The earlier run with this key decides; None when its key had expired (now freed)."""
    now = timezone.now()
    running = existing.status == CheckoutStatus.STARTED and existing.updated_at > now - STALE_AFTER
    if existing.created_at <= now - KEY_TTL and not running:
        # Expired but not purged yet: free the key (as the purge would), claim it anew.
        Checkout.objects.filter(pk=existing.pk, idempotency_key=key).update(idempotency_key=None)
        return None
    # An empty hash was erased (it covered the card): the retry is taken as the same request.
    if existing.request_hash and existing.request_hash not in request_hashes:
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was already used for a different request."
        )
    if existing.status in (CheckoutStatus.PLACED, CheckoutStatus.CANCELLED):
        return existing, _replayed(cast(dict[str, Any], existing.replay))
    if existing.status == CheckoutStatus.FAILED and existing.replay is not None:
        error = existing.replay
        raise CheckoutFailedError(
            error["message"], code=error["code"], status=error["status"], fields=error["fields"]
        )
    if running:
        raise CheckoutInProgressError()
    # An earlier run failed on a service (it released what it held) or died: run again.
    restarted = Checkout.objects.filter(
        pk=existing.pk, status=existing.status, attempt=existing.attempt
    ).update(status=CheckoutStatus.STARTED, attempt=F("attempt") + 1, updated_at=now)
    if not restarted:
        raise CheckoutInProgressError()
    existing.refresh_from_db()
    return existing, None


# Hand-written, with the window booking (CONFIRM_HOLD_CTE) in the same statement: one round
# trip instead of three on checkout's hot path (see windows.py). `seat` says whether the hold
# was still held.
_PLACED = f"""
    WITH {CONFIRM_HOLD_CTE}
    UPDATE {Checkout._meta.db_table}
       SET status = '{CheckoutStatus.PLACED}', hub_code = %(hub_code)s,
           window_id = %(window_id)s, reservation_id = %(reservation_id)s,
           order_number = %(order_number)s, lines = %(lines)s::jsonb,
           pick_due_by = %(pick_due_by)s, total = %(total)s, currency = %(currency)s,
           failure_code = '', failure_message = '', replay = %(replay)s::jsonb,
           updated_at = %(now)s
     WHERE id = %(checkout)s AND attempt = %(attempt)s AND status = '{CheckoutStatus.STARTED}'
    RETURNING (SELECT count(*) FROM seat)
"""


def checkout_record_placed(
    checkout: Checkout, *, hold_id: str, placed: PlacedCheckout, result: CheckoutResult
) -> None:
    """The order is placed: book the held window seat, record the order and the result a
    retry with the key gets. Fenced on the run's attempt: raises CheckoutInProgressError when
    a retry took the checkout over meanwhile (this run's transaction then rolls back, so one
    key never makes two orders). Raises WindowFullError when the hold expired and its seat
    went meanwhile."""
    with connection.cursor() as cursor:
        cursor.execute(
            _PLACED,
            {
                "hub_code": placed.hub_code,
                "window_id": placed.window_id,
                "reservation_id": placed.reservation_id,
                "order_number": placed.order_number,
                "lines": json.dumps(list(placed.lines)),
                "pick_due_by": placed.pick_due_by,
                "total": placed.total,
                "currency": placed.currency,
                "replay": json.dumps(_replay_of(result)),
                "now": timezone.now(),
                "checkout": checkout.pk,
                "attempt": checkout.attempt,
                "hold": uuid.UUID(hold_id),
            },
        )
        row = cursor.fetchone()
    if row is None:
        raise CheckoutInProgressError()
    (seats,) = row
    if not seats:  # the hold expired meanwhile: book a free seat again, if there is one
        window_hold_confirm(hold_id=hold_id, window_id=placed.window_id)


def checkout_record_failed(
    checkout: Checkout, error: ApplicationError, *, hub_code: str, step: str
) -> None:
    """Record the failure and publish CheckoutRefused; one for the customer's reason (4xx)
    is replayed to retries."""
    replay = {"status": error.status, **error.as_dict()} if error.status < 500 else None
    with transaction.atomic():
        Checkout.objects.filter(pk=checkout.pk, attempt=checkout.attempt).update(
            status=CheckoutStatus.FAILED,
            failure_code=error.code,
            failure_message=error.message,
            replay=replay,
            updated_at=timezone.now(),
        )
        bus.publish(
            CheckoutRefused(
                reference=f"checkout:{checkout.pk}:{checkout.attempt}",
                customer_id=checkout.customer_id,
                hub_code=hub_code,
                reason=error.code,
                step=step,
                at=timezone.now(),
            )
        )


def checkout_outcome(checkout: Checkout) -> CheckoutResult | None:
    """What this run of the checkout ended as, read back from the database: its result when
    it is recorded placed (its COMMIT happened after all), None when it is not."""
    row = (
        Checkout.objects.filter(
            pk=checkout.pk, attempt=checkout.attempt, status=CheckoutStatus.PLACED
        )
        .values_list("replay", flat=True)
        .first()
    )
    return None if row is None else replace(_replayed(row), replayed=False)


def connection_reset_if_broken() -> None:
    """Drop the database connection if it broke (killed by the server, network lost, a COMMIT
    cut off), so the next query opens a new one. Outside a transaction only."""
    broken = connection.connection is not None and not connection.is_usable()
    if broken and not connection.in_atomic_block:
        connection.close()


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()  # to the microsecond (DjangoJSONEncoder keeps milliseconds)
    return value


def _replay_of(result: CheckoutResult) -> dict[str, Any]:
    """The result as stored for retries with the same key (JSON, nothing lost)."""
    return {
        "order_number": result.order_number,
        "total": str(result.total),
        "currency": result.currency,
        "window": {name: _json_value(value) for name, value in vars(result.window).items()},
    }


def _replayed(replay: dict[str, Any]) -> CheckoutResult:
    """What the first run answered, for a retry with its key."""
    window = dict(replay["window"])
    for name in ("start", "end", "cutoff_at"):
        window[name] = datetime.fromisoformat(window[name])
    for name in ("fee", "free_above"):
        window[name] = None if window[name] is None else Decimal(window[name])
    window["kind"] = WindowKind(window["kind"])
    return CheckoutResult(
        order_number=replay["order_number"],
        total=Decimal(replay["total"]),
        currency=replay["currency"],
        window=WindowDTO(**window),
        replayed=True,
    )


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Let customers use again the keys of checkouts older than 24 h (the checkouts stay; one
    still running keeps its key). Returns how many keys were freed, in batches."""
    now = now or timezone.now()
    expired = Checkout.objects.filter(
        idempotency_key__isnull=False, created_at__lte=now - KEY_TTL
    ).exclude(status=CheckoutStatus.STARTED, updated_at__gt=now - STALE_AFTER)
    freed = 0
    while batch := list(expired.values_list("pk", flat=True)[:PURGE_BATCH]):
        freed += Checkout.objects.filter(pk__in=batch).update(idempotency_key=None)
    return freed
