"""The stand-in provider: when fulfillment fails behind the promise, the promise answers the
hub's last good promise (stale, with its age), else its standard two-hour promise; the
`delivery-precise-promise` lever asks for the standard promise on purpose."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.facade import promise_cache
from delivery.levers import PRECISE_PROMISE
from delivery.models import WindowKind
from delivery.services import promise_for
from fulfillment import services as fulfillment
from prime_now.kernel.levers import lever_set

from .factories import WindowFactory

pytestmark = pytest.mark.django_db


def broken(**kwargs):
    raise ConnectionError("fulfillment is down")


@pytest.fixture
def two_hour(world):
    start = (timezone.now() + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    return WindowFactory(
        hub_code=world.hub.code,
        kind=WindowKind.TWO_HOUR,
        start=start,
        end=start + timedelta(hours=2),
    )


def test_with_fulfillment_failing_the_last_good_promise_is_served_stale(world, monkeypatch):
    good = promise_for(postcode="98101")
    promise_cache.promise_invalidate(hub_code=world.hub.code)  # the cached answer is gone
    monkeypatch.setattr(fulfillment, "hub_backlog", broken)

    stale = promise_for(postcode="98101")

    assert good.available and not good.stale
    assert stale.available and stale.stale and stale.stale_seconds is not None
    assert [w.id for w in stale.windows] == [w.id for w in good.windows]


def test_without_a_good_promise_the_hubs_standard_two_hour_promise_is_served(
    world, two_hour, monkeypatch
):
    monkeypatch.setattr(fulfillment, "hub_backlog", broken)

    promise = promise_for(postcode="98101")

    assert promise.available and promise.conservative and not promise.stale
    assert [w.id for w in promise.windows] == [two_hour.pk]  # not the one-hour window
    assert promise.earliest_delivery >= timezone.now() + timedelta(hours=2)


def test_a_known_address_is_served_when_the_hub_lookup_fails(world, two_hour, monkeypatch):
    promise_for(postcode="98101")  # the hub of 98101 is remembered
    promise_cache.promise_invalidate(hub_code=world.hub.code)
    from django.core.cache import caches

    caches["local"].clear()
    monkeypatch.setattr(fulfillment, "hub_for_location", broken)
    monkeypatch.setattr(fulfillment, "hub_backlog", broken)

    promise = promise_for(postcode="98101")

    assert promise.available and promise.stale and promise.hub_code == world.hub.code


def test_pulling_the_precise_promise_lever_serves_the_standard_promise(
    world, two_hour, monkeypatch
):
    calls = []
    monkeypatch.setattr(fulfillment, "hub_backlog", lambda **kw: calls.append(kw) or 0)
    lever_set(PRECISE_PROMISE, enabled=False, reason="test")

    promise = promise_for(postcode="98101", basket_skus=[world.products[0].sku])

    assert promise.conservative and [w.id for w in promise.windows] == [two_hour.pk]
    assert calls == []  # no backlog, no stock lookups


def test_the_api_answers_200_with_the_stand_in_marked(world, two_hour, api_client, monkeypatch):
    monkeypatch.setattr(fulfillment, "hub_backlog", broken)

    response = api_client.get("/api/v1/delivery/promise", {"postcode": "98101"})

    body = response.json()
    assert response.status_code == 200
    assert body["conservative"] is True and body["stale"] is False
    assert body["windows"][0]["id"] == two_hour.pk


@pytest.mark.django_db(transaction=True)
def test_a_slow_service_behind_the_promise_is_cut_off_at_the_budget_then_skipped(
    monkeypatch, settings
):
    import time as clock

    from delivery.facade.promise import PRECISE
    from prime_now.kernel import breakers
    from tests.delivery.facade.conftest import make_world

    settings.DELIVERY_PROMISE_BUDGET_MS = 100
    settings.BREAKERS = {PRECISE: {"fail_max": 2, "reset_seconds": 30}}
    breakers.forget()
    world = make_world()
    promise_for(postcode="98101")  # a good promise to stand in with
    monkeypatch.setattr(fulfillment, "hub_backlog", lambda **kw: clock.sleep(1) or 0)
    timings = []
    for _ in range(4):
        promise_cache.promise_invalidate(hub_code=world.hub.code)
        started = clock.perf_counter()
        answer = promise_for(postcode="98101")
        timings.append(clock.perf_counter() - started)
        assert answer.stale

    assert all(t < 0.5 for t in timings)  # cut off at the budget, never the 1 s
    assert all(t < 0.05 for t in timings[2:])  # breaker open: no waiting at all
    assert breakers.breaker_states()[PRECISE] == "open"
