"""Idempotency keys for checkout, as clients expect from payment APIs.

The checkout record is the key's record (see checkout.py): the first request with a key runs;
a retry with the same key and the same request gets its result, or its error when it failed
for the customer's reason; another request with the key is refused (422); a retry while the
first still runs gets 409; one that failed because a service did (5xx) runs again. Keys are per
customer and live 24 h.
"""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from ..models import Checkout, CheckoutStatus
from .errors import IdempotencyKeyMissingError

KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# A checkout still "started" after this long died with its process (its transaction rolled
# back, so no order exists): a retry with the same key may run it again.
STALE_AFTER = timedelta(minutes=2)
PURGE_BATCH = 1000


def request_fingerprint(payload: Any) -> str:
    """A stable hash of a request body (key order and whitespace do not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
