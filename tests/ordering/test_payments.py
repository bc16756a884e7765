"""Payments: the sandbox's test cards at placement, and the payment through the order's life."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from ordering import services
from ordering.models import Order, Payment, PaymentOperation, SandboxAuthorization
from ordering.payments import CardDeclined, ProviderRefused, ProviderUnavailable, provider_get
from tests.kernel.factories import UserFactory
from tests.ordering.factories import OrderFactory, OrderLineInputFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("token", "brand"),
    [
        ("4242424242424242", "visa"),
        ("4242 4242 4242 4242", "visa"),
        ("tok_visa", "visa"),
        ("5555555555554444", "mastercard"),
        ("tok_mastercard", "mastercard"),
        ("378282246310005", "amex"),
        ("tok_amex", "amex"),
    ],
)
def test_an_approving_test_card_places_the_order_with_the_total_authorized(token, brand):
    order = OrderFactory(payment_token=token)
    assert order.payment_status == "authorized"
    assert order.amount_authorized == order.total
    assert order.card_brand == brand


@pytest.mark.parametrize(
    ("token", "code", "reason"),
    [
        ("4000000000000002", "payment_declined", "card_declined"),
        ("tok_chargeDeclined", "payment_declined", "card_declined"),
        ("4000000000009995", "insufficient_funds", "insufficient_funds"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds", "insufficient_funds"),
        ("4000-0000-0000-0069", "payment_declined", "expired_card"),
        ("4000000000000127", "payment_declined", "incorrect_cvc"),
        ("4111111111111111", "payment_declined", "invalid_token"),
        ("", "payment_declined", "invalid_token"),
    ],
)
def test_a_declining_test_card_places_nothing(token, code, reason):
    with pytest.raises(services.PaymentDeclinedError) as caught:
        OrderFactory(payment_token=token)
    assert (caught.value.code, caught.value.status) == (code, 402)
    assert caught.value.fields == {"payment_token": reason}
    assert not Order.objects.exists()
    assert not SandboxAuthorization.objects.exists()


def test_a_processor_error_is_a_retryable_unavailable_error():
    with pytest.raises(services.PaymentUnavailableError) as caught:
        OrderFactory(payment_token="4000000000000119")
    assert caught.value.status == 503
    assert not Order.objects.exists()


def test_a_declined_card_can_be_retried_with_the_same_key_and_another_card():
    common = {"idempotency_key": "checkout-1", "lines": [OrderLineInputFactory()]}
    customer = UserFactory(roles=["customer"])
    with pytest.raises(services.PaymentDeclinedError):
        OrderFactory(customer=customer, payment_token="4000000000000002", **common)
    order = OrderFactory(customer=customer, payment_token="tok_visa", **common)
    assert order.payment_status == "authorized"


def test_no_card_number_is_stored_anywhere():
    order = OrderFactory(payment_token="4242424242424242")
    payment = Payment.objects.get(order__number=order.number)
    stored = [str(v) for v in Payment.objects.values().get(pk=payment.pk).values()]
    stored += [str(v) for v in SandboxAuthorization.objects.values().get().values()]
    stored += [str(v) for v in Order.objects.values().get(number=order.number).values()]
    assert not any("4242424242424242" in value for value in stored)
    assert payment.reference.startswith("sbx_auth_")


def test_delivery_captures_the_total():
    order = OrderFactory(status="delivered")
    assert (order.payment_status, order.amount_captured) == ("captured", order.total)
    row = SandboxAuthorization.objects.get()
    assert row.captured_minor == int(order.total * 100)


@pytest.mark.parametrize("status", ["cancelled", "delivery_failed"])
def test_cancel_and_failed_delivery_void_the_hold(status):
    order = OrderFactory(status=status)
    assert order.payment_status == "voided"
    assert order.amount_captured == Decimal("0.00")
    assert SandboxAuthorization.objects.get().status == "voided"


def test_a_refund_gives_back_everything_captured():
    order = OrderFactory(status="refunded")
    assert order.payment_status == "refunded"
    assert order.amount_refunded == order.amount_captured == order.total
    assert SandboxAuthorization.objects.get().refunded_minor == int(order.total * 100)


def test_the_payment_ledger_records_each_provider_call():
    order = OrderFactory(status="refunded")
    kinds = list(
        PaymentOperation.objects.filter(payment__order__number=order.number).values_list(
            "kind", "amount"
        )
    )
    assert kinds == [
        ("authorize", order.total),
        ("capture", order.total),
        ("refund", order.total),
    ]


class TestSandboxRefusesWhatAProcessorRefuses:
    def _auth(self, amount_minor=1000):
        return provider_get("sandbox").authorize(
            token="tok_visa", amount_minor=amount_minor, currency="USD", idempotency_key="k1"
        )

    def test_capturing_more_than_authorized(self):
        auth = self._auth()
        with pytest.raises(ProviderRefused):
            provider_get().capture(reference=auth.reference, amount_minor=1001)

    def test_capturing_a_voided_hold(self):
        auth = self._auth()
        provider_get().void(reference=auth.reference)
        with pytest.raises(ProviderRefused):
            provider_get().capture(reference=auth.reference, amount_minor=100)

    def test_refunding_more_than_captured(self):
        auth = self._auth()
        provider_get().capture(reference=auth.reference, amount_minor=500)
        with pytest.raises(ProviderRefused):
            provider_get().refund(reference=auth.reference, amount_minor=501)

    def test_reducing_below_zero(self):
        auth = self._auth()
        with pytest.raises(ProviderRefused):
            provider_get().reduce(reference=auth.reference, amount_minor=1001)

    def test_the_same_idempotency_key_returns_the_same_authorization(self):
        assert self._auth().reference == self._auth().reference

    def test_the_same_idempotency_key_with_another_amount_is_refused(self):
        self._auth(1000)
        with pytest.raises(ProviderRefused):
            self._auth(2000)

    def test_declines_and_errors_are_typed(self):
        with pytest.raises(CardDeclined):
            provider_get().authorize(
                token="tok_chargeDeclined", amount_minor=1, currency="USD", idempotency_key="x"
            )
        with pytest.raises(ProviderUnavailable):
            provider_get().authorize(
                token="tok_chargeDeclinedProcessingError",
                amount_minor=1,
                currency="USD",
                idempotency_key="y",
            )


@pytest.mark.django_db(transaction=True)
def test_concurrent_authorizations_with_one_key_make_one_hold():
    # Given four callers authorizing with the same key at once (threads, real connections)
    barrier = threading.Barrier(4)
    references, errors = [], []

    def authorize():
        try:
            barrier.wait()
            auth = provider_get("sandbox").authorize(
                token="tok_visa", amount_minor=1234, currency="USD", idempotency_key="race"
            )
            references.append(auth.reference)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=authorize) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each got the one authorization the key made
    assert errors == []
    assert len(set(references)) == 1
    assert SandboxAuthorization.objects.count() == 1


def test_an_unknown_provider_is_a_configuration_error(settings):
    settings.ORDERING_PAYMENT_PROVIDER = "acme"
    with pytest.raises(LookupError):
        provider_get()


def test_the_open_authorizations_are_listed_page_after_page_to_the_end():
    # Given five held authorizations made at the same instant and one already voided
    sandbox = provider_get("sandbox")
    made = [
        sandbox.authorize(
            token="tok_visa", amount_minor=100, currency="USD", idempotency_key=f"page-{n}"
        ).reference
        for n in range(6)
    ]
    sandbox.void(reference=made[5])
    SandboxAuthorization.objects.update(created_at=timezone.now() - timedelta(hours=1))

    # When they are read two at a time, each page after the last reference of the one before
    pages, after = [], ""
    while page := sandbox.open_authorizations(
        created_before=timezone.now(), limit=2, starting_after=after
    ):
        pages.append(page)
        after = page[-1]

    # Then every held one comes exactly once, and the voided one never
    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(sum(pages, [])) == sorted(made[:5])


def test_an_old_orphaned_authorization_is_voided_behind_more_than_a_page_of_orders_holds():
    # Given an authorization no order holds, made an hour ago
    orphan = provider_get().authorize(
        token="tok_visa", amount_minor=999, currency="USD", idempotency_key="old-orphan"
    )
    SandboxAuthorization.objects.filter(reference=orphan.reference).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    # and, made since, more live orders' holds than one page of the provider's list
    orders = [OrderFactory() for _ in range(3)]

    # When reconciliation voids orphans, reading two at a time
    voided = services.authorizations_orphaned_void(created_before=timezone.now(), page=2)

    # Then the old orphan is reached and voided; the orders keep their holds
    assert voided == 1
    assert SandboxAuthorization.objects.get(reference=orphan.reference).status == "voided"
    held = Payment.objects.filter(order__number__in=[order.number for order in orders])
    assert set(
        SandboxAuthorization.objects.filter(
            reference__in=held.values_list("reference", flat=True)
        ).values_list("status", flat=True)
    ) == {"authorized"}
