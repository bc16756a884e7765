from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.models import IdempotencyKey
from delivery.services import IdempotencyKeyReusedError, RequestInFlightError
from delivery.services.idempotency import (
    IN_FLIGHT_LIMIT,
    KEY_TTL,
    idempotency_abandon,
    idempotency_begin,
    idempotency_finish,
    idempotency_keys_purge,
    request_fingerprint,
)

pytestmark = pytest.mark.django_db


def begin(user, key="k", body=None, now=None):
    return idempotency_begin(
        user_id=user.pk,
        scope="checkout",
        key=key,
        request_hash=request_fingerprint(body or {"a": 1}),
        now=now,
    )


def test_the_first_request_runs_and_a_retry_gets_its_response(customer):
    assert begin(customer) is None
    idempotency_finish(
        user_id=customer.pk, scope="checkout", key="k", status=201, body={"n": "PN1"}
    )

    stored = begin(customer)

    assert (stored.status, stored.body) == (201, {"n": "PN1"})


def test_the_fingerprint_ignores_key_order():
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})


def test_a_retry_with_another_body_is_refused(customer):
    begin(customer, body={"a": 1})

    with pytest.raises(IdempotencyKeyReusedError):
        begin(customer, body={"a": 2})


def test_a_retry_while_the_first_runs_gets_a_conflict(customer):
    begin(customer)

    with pytest.raises(RequestInFlightError):
        begin(customer)


def test_a_request_that_died_in_flight_may_be_taken_over(customer):
    now = timezone.now()
    begin(customer, now=now)

    assert begin(customer, now=now + IN_FLIGHT_LIMIT + timedelta(seconds=1)) is None


def test_keys_are_scoped_per_user(customer):
    from tests.kernel.factories import UserFactory

    begin(customer)

    assert begin(UserFactory()) is None


def test_an_abandoned_key_lets_the_retry_run(customer):
    begin(customer)
    idempotency_abandon(user_id=customer.pk, scope="checkout", key="k")

    assert begin(customer) is None


def test_keys_expire_after_a_day(customer):
    now = timezone.now()
    begin(customer, now=now)
    idempotency_finish(user_id=customer.pk, scope="checkout", key="k", status=201, body={})

    assert begin(customer, body={"other": True}, now=now + KEY_TTL) is None  # a fresh key
    assert idempotency_keys_purge(now=now + 2 * KEY_TTL) == 1
    assert not IdempotencyKey.objects.exists()
