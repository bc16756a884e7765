"""Checkout under faults: one key never makes two orders, a COMMIT whose answer was lost is
settled by reading back, and an authorization is voided whenever the checkout does not end
placed."""

import threading

import pytest
from django.db import OperationalError, connection

from delivery.facade import checkout as checkout_module
from delivery.models import Checkout
from delivery.services import CheckoutInProgressError
from ordering import services as ordering
from ordering.models import SandboxAuthorization
from ordering.payments import provider_get

from .conftest import place

pytestmark = pytest.mark.django_db(transaction=True)


def bump_attempt_elsewhere() -> None:
    """What a retry after STALE_AFTER does: take the checkout over (a new attempt),
    committed from another connection while the first run is still going."""

    def run() -> None:
        Checkout.objects.update(attempt=2)
        connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def test_a_run_overtaken_by_a_retry_places_no_order(world, shopper, monkeypatch):
    # Given a retry takes the checkout over while the first run authorizes the payment
    real_place = ordering.order_place

    def place_then_overtaken(**kwargs):
        order = real_place(**kwargs)
        bump_attempt_elsewhere()
        return order

    monkeypatch.setattr(ordering, "order_place", place_then_overtaken)

    # When the first run goes on to record its order
    with pytest.raises(CheckoutInProgressError):
        place(world, shopper)

    # Then its order is rolled back: the key can make only the retry's order
    assert ordering.orders_for_customer(customer_id=shopper.pk) == ()


def test_a_commit_whose_answer_was_lost_is_read_back_as_placed(world, shopper, monkeypatch):
    # Given the order commits but its answer never reaches us (the connection drops)
    real_run = checkout_module._run

    def committed_then_lost(*args, **kwargs):
        real_run(*args, **kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(checkout_module, "_run", committed_then_lost)

    # When the checkout settles it
    result = place(world, shopper)

    # Then it answers placed, and a retry with the key replays the one order
    monkeypatch.undo()
    again = place(world, shopper)
    orders = ordering.orders_for_customer(customer_id=shopper.pk)
    assert [order.number for order in orders] == [result.order_number]
    assert (again.order_number, again.replayed, result.replayed) == (
        result.order_number,
        True,
        False,
    )


def test_a_failure_after_the_order_voids_its_authorization(world, shopper, monkeypatch):
    # Given the step after the order fails
    voided = []
    real_void = ordering.authorization_void
    monkeypatch.setattr(
        ordering,
        "authorization_void",
        lambda *, reference: voided.append(reference) or real_void(reference=reference),
    )

    def broken(**kwargs):
        raise RuntimeError("stock confirmation failed")

    monkeypatch.setattr(checkout_module.fulfillment, "stock_reservation_confirm", broken)

    with pytest.raises(Exception, match="confirming"):
        place(world, shopper)

    # Then the authorization the order step made was voided (the sandbox's, written in the
    # rolled-back transaction, is gone already; a processor's hold is voided)
    assert len(voided) == 1 and voided[0].startswith("sbx_auth_")
    assert not SandboxAuthorization.objects.filter(status="authorized").exists()


def test_an_authorization_no_order_holds_is_voided(shopper):
    hold = provider_get().authorize(
        token="tok_visa", amount_minor=1250, currency="USD", idempotency_key="orphan-1"
    )

    assert ordering.authorization_void(reference=hold.reference) is True
    assert SandboxAuthorization.objects.get(reference=hold.reference).status == "voided"


def test_an_authorization_an_order_holds_is_never_voided(world, shopper):
    order_number = place(world, shopper).order_number
    reference = ordering.order_get(number=order_number).payment_reference

    assert ordering.authorization_void(reference=reference) is False
    assert SandboxAuthorization.objects.get(reference=reference).status == "authorized"
