"""Reconciliation finds the work that fell between the cracks and re-drives or compensates
it, counting each case; a second run finds nothing more."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from delivery.facade import checkout as checkout_module
from delivery.facade.reconcile import reconcile
from delivery.models import Checkout, CheckoutStatus, DeliveryJob, HoldStatus, WindowHold
from fulfillment.models import PickJob, Reservation, ReservationStatus
from ordering import services as ordering
from ordering.models import SandboxAuthorization
from ordering.payments import provider_get
from prime_now.kernel import bus
from tests.delivery.transport.support import make_hub, packed_order

from .conftest import place

pytestmark = pytest.mark.django_db


def later(minutes: int = 5):
    """A reconciliation run this many minutes from now: past the grace period."""
    return timezone.now() + timedelta(minutes=minutes)


def counted(case: str) -> float:
    return REGISTRY.get_sample_value("reconcile_cases_total", {"case": case}) or 0.0


@pytest.fixture
def lost_deliveries(monkeypatch):
    """A broker that takes every message and loses it (a restart without persistence)."""
    monkeypatch.setattr(bus, "_send", lambda event_id, key: None)


def test_a_placed_order_whose_event_was_lost_gets_its_pick_job(
    world, shopper, lost_deliveries, django_capture_on_commit_callbacks
):
    # Given an order placed while its OrderPlaced was lost on the way
    with django_capture_on_commit_callbacks(execute=True):
        number = place(world, shopper).order_number
    assert not PickJob.objects.filter(order_ref=number).exists()
    before = counted("placed_without_pick_job")

    # When reconciliation runs past the grace period, twice
    first, second = reconcile(now=later()), reconcile(now=later())

    # Then the pick job exists once, and the case was counted once
    assert PickJob.objects.filter(order_ref=number).count() == 1
    assert first.cases["placed_without_pick_job"] == 1
    assert second.cases["placed_without_pick_job"] == 0
    assert counted("placed_without_pick_job") == before + 1


def test_an_order_within_its_grace_period_is_left_alone(world, shopper, lost_deliveries):
    number = place(world, shopper).order_number

    done = reconcile()

    assert done.cases["placed_without_pick_job"] == 0
    assert not PickJob.objects.filter(order_ref=number).exists()


def test_a_packed_order_whose_event_was_lost_gets_its_delivery_job():
    # Given an order packed at the hub, its OrderPacked never delivered
    number = packed_order(make_hub())
    assert not DeliveryJob.objects.filter(order_number=number).exists()

    done = reconcile(now=later())

    assert done.cases["packed_without_delivery"] == 1
    assert DeliveryJob.objects.filter(order_number=number).count() == 1
    assert ordering.order_get(number=number).status == ordering.OrderStatus.PACKED


class WorkerKilled(BaseException):
    """The process died mid-checkout: nothing after this line ran, not even the undo."""


def test_the_holds_of_a_checkout_that_died_are_released(world, shopper, monkeypatch):
    # Given a checkout that died after holding a seat and the stock
    def killed(**kwargs):
        raise WorkerKilled

    monkeypatch.setattr(checkout_module.ordering, "order_place", killed)
    with pytest.raises(WorkerKilled):
        place(world, shopper)
    assert Checkout.objects.get().status == CheckoutStatus.STARTED

    done = reconcile(now=later())

    assert done.cases["holds_released"] == 2  # the seat and the stock reservation
    assert not WindowHold.objects.filter(status=HoldStatus.HELD).exists()
    assert not Reservation.objects.filter(status=ReservationStatus.HELD).exists()
    world.window.refresh_from_db()
    assert world.window.held == 0


def test_an_authorization_no_order_holds_is_voided_after_its_grace(shopper):
    hold = provider_get().authorize(
        token="tok_visa", amount_minor=999, currency="USD", idempotency_key="orphan-r"
    )

    within = reconcile()
    after = reconcile(now=later(minutes=15))

    assert within.cases["authorizations_voided"] == 0
    assert after.cases["authorizations_voided"] == 1
    assert SandboxAuthorization.objects.get(reference=hold.reference).status == "voided"


def test_an_order_never_dispatched_long_after_its_window_is_cancelled_and_not_charged(
    world, shopper
):
    # Given an order still waiting at the hub hours after its window ended
    number = place(world, shopper).order_number

    done = reconcile(now=world.window.end + timedelta(hours=3))

    order = ordering.order_get(number=number)
    assert done.cases["orders_cancelled_late"] == 1
    assert order.status == ordering.OrderStatus.CANCELLED
    assert order.payment_status == ordering.PaymentStatus.VOIDED
    assert "could not deliver" in order.timeline[-1].reason


def test_the_command_prints_each_case(capsys):
    from django.core.management import call_command

    call_command("reconcile")

    out = capsys.readouterr().out
    assert "placed_without_pick_job: 0" in out and "case(s) reconciled." in out
