"""Automatic shedding: a synthetic load signal above a rule's threshold pulls its levers
(audited as automatic), and they come back only after the signal stayed below the lower
threshold (hysteresis); the controller never restores what an operator pulled."""

import pytest

from prime_now import shedding
from prime_now.kernel.levers import lever_on, lever_set
from prime_now.kernel.models import LeverChange
from prime_now.shedding import Rule, Signals, tick

pytestmark = pytest.mark.django_db

RULE = Rule(
    name="promise-slow",
    signal="p99_ms",
    route="/api/v1/delivery/promise",
    above=1000,
    below=300,
    levers=("storefront-next-window", "storefront-also-bought"),
    restore_checks=3,
)
SLOW = Signals(p99_ms={"/api/v1/delivery/promise": 2500.0})
MIDDLING = Signals(p99_ms={"/api/v1/delivery/promise": 600.0})
FAST = Signals(p99_ms={"/api/v1/delivery/promise": 120.0})


def test_a_signal_above_the_threshold_pulls_the_rules_levers_automatically():
    done = tick(SLOW, now_rules=[RULE])

    assert not lever_on("storefront-next-window") and not lever_on("storefront-also-bought")
    assert len(done) == 2
    change = LeverChange.objects.filter(lever__name="storefront-next-window").get()
    assert change.automatic and change.actor is None and "p99_ms=2500" in change.reason


def test_levers_come_back_only_after_the_signal_stays_below_the_lower_threshold():
    tick(SLOW, now_rules=[RULE])

    tick(MIDDLING, now_rules=[RULE])  # between the thresholds: nothing changes
    tick(FAST, now_rules=[RULE])
    tick(FAST, now_rules=[RULE])
    assert not lever_on("storefront-next-window")
    tick(FAST, now_rules=[RULE])  # the third check in a row below

    assert lever_on("storefront-next-window") and lever_on("storefront-also-bought")
    assert LeverChange.objects.filter(automatic=True).count() == 4


def test_a_lever_an_operator_pulled_is_not_restored_by_the_controller():
    lever_set("storefront-also-bought", enabled=False, reason="recommendations are wrong")
    tick(SLOW, now_rules=[RULE])

    for _ in range(3):
        tick(FAST, now_rules=[RULE])

    assert lever_on("storefront-next-window")
    assert not lever_on("storefront-also-bought")


def test_a_lever_two_tripped_rules_share_stays_pulled_until_both_clear():
    errors = Rule("errors", "error_rate", 0.05, 0.01, ("storefront-also-bought",), restore_checks=1)
    fast_rule = Rule(**{**RULE.__dict__, "restore_checks": 1})
    tick(Signals(p99_ms=SLOW.p99_ms, error_rate={"/": 0.2}), now_rules=[fast_rule, errors])

    tick(Signals(p99_ms=FAST.p99_ms, error_rate={"/": 0.2}), now_rules=[fast_rule, errors])

    assert lever_on("storefront-next-window") and not lever_on("storefront-also-bought")


def test_the_signals_come_from_the_request_metrics(client):
    shedding.read_signals()  # the baseline
    for _ in range(25):
        client.get("/healthz")

    signals = shedding.read_signals()

    assert "/healthz" in signals.p99_ms and signals.error_rate["/healthz"] == 0.0
    assert 0 < signals.db_connections < 1
    assert signals.outbox_lag_seconds == 0.0
