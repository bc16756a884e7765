"""Idempotency keys, as clients expect from payment APIs.

The first request with a key runs and its response (status and body) is stored; a retry with
the same key and the same body gets that response again, a retry with another body is refused
(422), a retry while the first still runs gets 409. Keys are per user and scope and live 24 h.
A request that crashed (unexpected error) gives its key back so that a retry can run.
"""

import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..models import IdempotencyKey
from .errors import IdempotencyKeyMissingError, IdempotencyKeyReusedError, RequestInFlightError

KEY_TTL = timedelta(hours=24)
# A request still "in flight" after this long is taken to have died; a retry may take over.
IN_FLIGHT_LIMIT = timedelta(seconds=60)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


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


_TABLE = IdempotencyKey._meta.db_table
_CLAIM = f"""
    INSERT INTO {_TABLE}
           (user_id, scope, key, request_hash, response_status, response_body, created_at,
            locked_until, expires_at)
    VALUES (%s, %s, %s, %s, NULL, NULL, %s, %s, %s)
    ON CONFLICT (user_id, scope, key) DO NOTHING
    RETURNING id
"""
_FINISH = f"""
    UPDATE {_TABLE} SET response_status = %s, response_body = %s::jsonb, locked_until = NULL
     WHERE user_id = %s AND scope = %s AND key = %s
"""


def idempotency_begin(
    *, user_id: int, scope: str, key: str, request_hash: str, now: datetime | None = None
) -> StoredResponse | None:
    """Claim the key. Returns None when the caller should run the request, or the stored
    response to replay. Raises IdempotencyKeyReusedError or RequestInFlightError."""
    now = now or timezone.now()
    for _ in range(3):
        if connection.vendor == "postgresql":
            # One statement, no savepoint: a key already there just returns no row.
            with connection.cursor() as cursor:
                cursor.execute(
                    _CLAIM,
                    [user_id, scope, key, request_hash, now, now + IN_FLIGHT_LIMIT, now + KEY_TTL],
                )
                if cursor.fetchone():
                    return None
        else:
            try:
                # A lone INSERT outside a transaction; a savepoint only inside the caller's one.
                with transaction.atomic() if connection.in_atomic_block else nullcontext():
                    IdempotencyKey.objects.create(
                        user_id=user_id,
                        scope=scope,
                        key=key,
                        request_hash=request_hash,
                        locked_until=now + IN_FLIGHT_LIMIT,
                        expires_at=now + KEY_TTL,
                    )
                return None
            except IntegrityError:
                pass
        row = IdempotencyKey.objects.filter(user_id=user_id, scope=scope, key=key).first()
        if row is None:
            continue  # purged between our insert and read: try again
        if row.expires_at <= now:
            IdempotencyKey.objects.filter(pk=row.pk, expires_at__lte=now).delete()
            continue
        if row.request_hash != request_hash:
            raise IdempotencyKeyReusedError()
        if row.response_status is not None:
            return StoredResponse(status=row.response_status, body=row.response_body)
        if row.locked_until and row.locked_until > now:
            raise RequestInFlightError()
        taken = IdempotencyKey.objects.filter(
            pk=row.pk, response_status__isnull=True, locked_until=row.locked_until
        ).update(locked_until=now + IN_FLIGHT_LIMIT)
        if taken:
            return None
        raise RequestInFlightError()
    raise RequestInFlightError()


def idempotency_finish(*, user_id: int, scope: str, key: str, status: int, body: Any) -> None:
    """Store the response of the request that held the key."""
    encoded = json.dumps(body, cls=DjangoJSONEncoder)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_FINISH, [status, encoded, user_id, scope, key])
        return
    body = json.loads(encoded)
    IdempotencyKey.objects.filter(user_id=user_id, scope=scope, key=key).update(
        response_status=status, response_body=body, locked_until=None
    )


def idempotency_abandon(*, user_id: int, scope: str, key: str) -> None:
    """The request crashed: forget the key so that a retry runs again."""
    IdempotencyKey.objects.filter(
        user_id=user_id, scope=scope, key=key, response_status__isnull=True
    ).delete()


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete keys older than 24 h. Returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
