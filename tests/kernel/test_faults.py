"""Fault injection: named faults at the doors and dependencies, audited, expiring, refused in
production unless allowed."""

import random
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fulfillment import services as fulfillment
from prime_now.kernel import faults, levers
from prime_now.kernel.faults import FaultsNotAllowedError, InjectedFault, fault_add, fault_clear
from prime_now.kernel.levers import lever_on
from prime_now.kernel.models import Fault
from tests.fulfillment.factories import HubFactory
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db


def inject(target="fulfillment", kind="error", **fields):
    return fault_add(target=target, kind=kind, reason="test", **fields)


def test_an_error_fault_at_a_door_fails_its_calls_until_cleared():
    hub = HubFactory()
    spec = inject()

    with pytest.raises(InjectedFault):
        fulfillment.hub_get(code=hub.code)
    fault_clear(fault_id=spec.id)

    assert fulfillment.hub_get(code=hub.code).code == hub.code


def test_a_latency_fault_slows_each_call():
    hub = HubFactory()
    inject(kind="latency", latency_ms=150)

    started = time.perf_counter()
    fulfillment.hub_get(code=hub.code)

    assert time.perf_counter() - started >= 0.15


def test_a_timeout_fault_hangs_then_raises_timeout_error():
    hub = HubFactory()
    inject(kind="timeout", latency_ms=50)

    with pytest.raises(TimeoutError):
        fulfillment.hub_get(code=hub.code)


def test_a_share_of_calls_is_hit():
    random.seed(19)
    inject(target="catalog", share=0.3)
    hits = 0
    for _ in range(400):
        try:
            faults.fault_point("catalog")
        except InjectedFault:
            hits += 1

    assert 80 < hits < 160


def test_a_fault_for_one_hub_spares_the_others():
    here, there = HubFactory(), HubFactory()
    inject(hub_code=here.code)

    assert fulfillment.stock_available(hub_code=there.code, product_ids=[]) == {}
    with pytest.raises(InjectedFault):
        fulfillment.stock_available(hub_code=here.code, product_ids=[])


def test_an_expired_fault_acts_no_more():
    spec = inject(target="catalog")
    Fault.objects.filter(pk=spec.id).update(
        created_at=timezone.now() - timedelta(hours=1), expires_at=timezone.now()
    )
    faults._publish()

    faults.fault_point("catalog")  # no error


def test_every_injection_is_kept_with_who_why_and_when_it_was_cleared():
    operator = UserFactory(is_staff=True)
    spec = fault_add(target="payment", kind="error", reason="game day", actor=operator)

    fault_clear(actor=operator)

    row = Fault.objects.get(pk=spec.id)
    assert row.created_by == operator and row.reason == "game day"
    assert row.cleared_at is not None and row.cleared_by == operator and not row.active


def test_bad_faults_are_refused_with_the_fields_to_fix():
    with pytest.raises(Exception) as refused:
        fault_add(target="moon", kind="boom", share=2, minutes=0, reason="")

    assert set(refused.value.fields) == {"target", "kind", "share", "minutes", "reason"}


def test_production_refuses_faults_unless_allowed(settings):
    inject(target="catalog")
    settings.FAULT_INJECTION_ALLOWED = False

    with pytest.raises(FaultsNotAllowedError):
        inject(target="catalog")
    faults.fault_point("catalog")  # an existing row does not act either


def test_the_production_settings_refuse_by_default(monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("SECRET_KEY", "x" * 60)
    monkeypatch.delenv("FAULT_INJECTION_ALLOWED", raising=False)
    sys.modules.pop("prime_now.settings.production", None)
    production = importlib.import_module("prime_now.settings.production")

    assert production.FAULT_INJECTION_ALLOWED is False
    sys.modules.pop("prime_now.settings.production", None)


def test_a_cache_fault_never_fails_a_lever_read(monkeypatch):
    inject(target="cache")
    levers.forget_snapshot()  # the next read goes to the cache, which fails
    monkeypatch.setattr(levers, "_from_database", lambda: 1 / 0)

    assert lever_on("storefront-also-bought") is True


def test_the_fault_command_adds_lists_and_clears():
    out = StringIO()
    call_command("fault", "add", "fulfillment", "--kind", "latency", "--ms", "2000",
                 "--share", "0.5", "--minutes", "5", "--reason", "drill", stdout=out)  # fmt: skip
    call_command("fault", "list", stdout=out)
    call_command("fault", "clear", stdout=out)

    text = out.getvalue()
    assert "injected until" in text and "latency 2000 ms at fulfillment, 50% of calls" in text
    assert "1 fault(s) cleared." in text and not Fault.objects.get().active
    with pytest.raises(CommandError):
        call_command("fault", "add", "fulfillment", "--kind", "latency", "--reason", "no ms")


def test_a_payment_fault_refuses_the_checkout_honestly():
    from ordering.services import PaymentUnavailableError
    from tests.delivery.facade.conftest import make_world, place

    world, shopper = make_world(), UserFactory(roles=["customer"])
    inject(target="payment")

    with pytest.raises(PaymentUnavailableError):
        place(world, shopper)


def test_a_broker_fault_leaves_the_event_in_the_outbox_for_later(
    django_capture_on_commit_callbacks,
):
    from prime_now.kernel import bus
    from prime_now.kernel.models import OutboxEvent
    from tests.kernel.outbox_probe import ProbePinged

    inject(target="broker")
    with django_capture_on_commit_callbacks(execute=True):
        bus.publish(ProbePinged(probe_id="broker-fault"))

    event = OutboxEvent.objects.get()
    assert event.relayed_at is None and "injected" in event.last_error


def test_the_fault_table_takes_exactly_the_targets_and_kinds_the_points_know():
    from prime_now.kernel.faults import FaultKind, FaultTarget

    assert tuple(FaultTarget) == Fault.TARGETS and tuple(FaultKind) == Fault.KINDS
