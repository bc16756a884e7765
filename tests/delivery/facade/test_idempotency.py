"""The checkout record is the key's record: what a retry with the same key gets."""

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from delivery.facade.idempotency import (
    KEY_TTL,
    STALE_AFTER,
    idempotency_keys_purge,
    request_fingerprint,
)
from delivery.models import Checkout, CheckoutStatus
from delivery.services import (
    CheckoutFailedError,
    CheckoutInProgressError,
    CheckoutUnavailableError,
)
from fulfillment import services as fulfillment
from ordering import services as ordering
from tests.kernel.factories import UserFactory

from .conftest import place

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_fingerprint_ignores_key_order():
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})


def test_the_fingerprint_leaves_the_payment_token_out():
    with_one_card = {"address": "1 Pike St", "payment_token": "4242424242424242"}
    with_another = {"address": "1 Pike St", "payment_token": "4000000000000002"}

    assert request_fingerprint(with_one_card) == request_fingerprint(with_another)


def test_the_fingerprint_is_keyed():
    body = {"address": "1 Pike St", "window_id": 7}

    assert request_fingerprint(body, secret="one key") != request_fingerprint(body, secret="two")


def test_no_trace_of_the_card_is_stored_with_the_checkout(world, shopper):
    # Given a checkout paid with a typed card number
    card = "4242424242424242"
    place(world, shopper, payment_token=card)

    # Then neither the number nor any plain hash of it is in the checkout's row
    row = json.dumps(list(Checkout.objects.values().get().values()), default=str)
    assert card not in row
    assert hashlib.sha256(card.encode()).hexdigest() not in row


def test_a_retry_with_its_key_is_replayed_across_a_secret_key_rotation(world, shopper, settings):
    # Given a checkout placed under the old SECRET_KEY
    first = place(world, shopper)
    old_key = settings.SECRET_KEY

    # When the key is rotated (the old one kept as a fallback) and the checkout is retried
    with override_settings(SECRET_KEY="n" * 50, SECRET_KEY_FALLBACKS=[old_key]):
        again = place(world, shopper)

    # Then the first result comes back, nothing more is ordered
    assert again.replayed and again.order_number == first.order_number


def test_a_retry_gets_the_first_result_as_it_was(world, shopper):
    # Given a placed checkout, and the window's seats changing afterwards
    first = place(world, shopper)
    place(world, UserFactory(), key="someone-else")

    # When it is retried with its key
    again = place(world, shopper)

    # Then the first result comes back unchanged, marked as replayed, and nothing more is ordered
    assert (first.replayed, again.replayed) == (False, True)
    assert again.window == first.window
    assert (again.order_number, again.total, again.currency) == (
        first.order_number,
        first.total,
        first.currency,
    )
    assert len(ordering.orders_for_customer(customer_id=shopper.pk)) == 1


def test_a_checkout_refused_for_the_customers_reason_is_refused_again_with_its_key(world, shopper):
    # Given a checkout refused as out of stock
    with pytest.raises(fulfillment.InsufficientStockError) as first:
        place(world, shopper, lines=world.lines(1, 11, 1))
    short = world.products[1]
    fulfillment.stock_receive(
        hub_code=world.hub.code, product_id=short.id, sku=short.sku, quantity=5
    )

    # When it is retried with its key, even though the stock came in meanwhile
    with pytest.raises(CheckoutFailedError) as again:
        place(world, shopper, lines=world.lines(1, 11, 1))

    # Then the first answer comes back (code, message, fields, status) and nothing is ordered
    assert again.value.as_dict() == json.loads(json.dumps(first.value.as_dict()))
    assert again.value.status == first.value.status == 409
    assert ordering.orders_for_customer(customer_id=shopper.pk) == ()


def _fail_on_a_service(world, shopper, monkeypatch) -> None:
    """Run a checkout while fulfillment is unreachable (503), then bring fulfillment back."""
    real = fulfillment.stock_reserve

    def unreachable(**kwargs):
        raise ConnectionError("fulfillment unreachable")

    monkeypatch.setattr(fulfillment, "stock_reserve", unreachable)
    with pytest.raises(CheckoutUnavailableError):
        place(world, shopper)
    monkeypatch.setattr(fulfillment, "stock_reserve", real)


def test_a_checkout_that_failed_on_a_service_runs_again_with_its_key(world, shopper, monkeypatch):
    _fail_on_a_service(world, shopper, monkeypatch)

    result = place(world, shopper)

    assert not result.replayed
    assert ordering.order_get(number=result.order_number).status == "placed"
    assert Checkout.objects.get().attempt == 2


def test_a_retry_while_the_first_runs_gets_a_conflict(world, shopper, monkeypatch):
    # Given a checkout whose run is still going (its record started a moment ago)
    _fail_on_a_service(world, shopper, monkeypatch)
    Checkout.objects.update(status=CheckoutStatus.STARTED, updated_at=timezone.now())

    # When it is retried with its key, then it is told to wait
    with pytest.raises(CheckoutInProgressError):
        place(world, shopper)


def test_a_checkout_whose_run_died_may_be_taken_over(world, shopper, monkeypatch):
    # Given a checkout record left started by a run that died
    _fail_on_a_service(world, shopper, monkeypatch)
    died_at = timezone.now() - STALE_AFTER - timedelta(seconds=1)
    Checkout.objects.update(status=CheckoutStatus.STARTED, updated_at=died_at)

    # When it is retried with its key, then it runs again
    assert place(world, shopper).order_number


def test_keys_are_per_customer(world, shopper):
    mine = place(world, shopper)

    theirs = place(world, UserFactory(), key="key-1")

    assert theirs.order_number != mine.order_number
    assert not theirs.replayed


def test_a_key_is_free_again_after_a_day_and_the_old_checkout_stays(world, shopper):
    # Given a checkout placed with a key more than a day ago
    first = place(world, shopper)
    Checkout.objects.update(created_at=timezone.now() - KEY_TTL - timedelta(seconds=1))

    # When the same key comes with another request, then it runs as a new checkout
    second = place(world, shopper, tip=Decimal("5.00"))

    assert second.order_number != first.order_number
    assert Checkout.objects.get(order_number=first.order_number).idempotency_key is None


def test_the_purge_frees_day_old_keys_and_keeps_their_checkouts(world, shopper):
    place(world, shopper, key="old")
    place(world, shopper, key="new")
    Checkout.objects.filter(idempotency_key="old").update(
        created_at=timezone.now() - KEY_TTL - timedelta(seconds=1)
    )

    assert idempotency_keys_purge() == 1
    assert set(Checkout.objects.values_list("idempotency_key", flat=True)) == {"new", None}


def test_a_day_old_key_whose_checkout_still_runs_is_kept(world, shopper, monkeypatch):
    # Given a checkout first tried a day ago, running again right now (a retry after a 5xx)
    _fail_on_a_service(world, shopper, monkeypatch)
    Checkout.objects.update(
        status=CheckoutStatus.STARTED,
        created_at=timezone.now() - KEY_TTL - timedelta(seconds=1),
        updated_at=timezone.now(),
    )

    # When the purge runs, and another retry comes with the key, then neither frees the key
    assert idempotency_keys_purge() == 0
    with pytest.raises(CheckoutInProgressError):
        place(world, shopper)
    assert Checkout.objects.get().idempotency_key == "key-1"


def test_a_checkout_whose_hash_was_erased_is_replayed_to_a_retry_with_its_key(world, shopper):
    # Given a checkout from before the card was left out of the hash (the migration erased it)
    first = place(world, shopper)
    Checkout.objects.update(request_hash="")

    # When it is retried with its key, then the first result comes back
    again = place(world, shopper)

    assert again.replayed and again.order_number == first.order_number
