from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.facade.promise import UNAVAILABLE_NOW
from delivery.facade.windows import window_set_capacity
from delivery.services import promise_for
from fulfillment import services as fulfillment
from fulfillment.events import StockChanged
from prime_now.kernel.errors import ValidationError

from .factories import WindowFactory

pytestmark = pytest.mark.django_db


def test_the_promise_names_the_hub_and_its_open_windows_earliest_first(world):
    later = WindowFactory(hub_code=world.hub.code, start=world.window.start + timedelta(hours=1))

    promise = promise_for(postcode="98101")

    assert promise.available
    assert promise.hub_code == world.hub.code
    assert [w.id for w in promise.windows] == [world.window.pk, later.pk]
    assert promise.earliest_delivery >= timezone.now()


def test_full_and_closed_windows_are_not_offered(world):
    WindowFactory(
        hub_code=world.hub.code, start=world.window.start + timedelta(hours=1), capacity=0
    )
    soon = timezone.now() + timedelta(minutes=5)
    WindowFactory(hub_code=world.hub.code, start=soon, cutoff_at=soon - timedelta(minutes=10))

    promise = promise_for(postcode="98101")

    assert [w.id for w in promise.windows] == [world.window.pk]


def test_windows_ending_before_the_hub_could_deliver_are_not_offered(world):
    start = timezone.now() + timedelta(minutes=20)
    WindowFactory(
        hub_code=world.hub.code,
        start=start,
        end=start + timedelta(minutes=5),
        cutoff_at=start - timedelta(minutes=1),
    )

    promise = promise_for(postcode="98101")

    assert [w.id for w in promise.windows] == [world.window.pk]


def test_basket_lines_the_hub_cannot_supply_are_listed(world):
    sold_out = world.products[0]
    fulfillment.stock_reserve(
        hub_code=world.hub.code,
        lines=[fulfillment.StockLine(product_id=sold_out.id, quantity=10)],
        hold_for=timedelta(minutes=5),
        reference="someone else",
    )

    promise = promise_for(
        postcode="98101", basket_skus=[sold_out.sku, world.products[1].sku, "NO-SUCH-SKU"]
    )

    assert promise.unavailable_skus == (sold_out.sku, "NO-SUCH-SKU")


def test_an_address_no_hub_serves_gets_a_clear_answer(world):
    promise = promise_for(postcode="10001")

    assert not promise.available
    assert promise.hub_code is None
    assert promise.message


def test_the_promise_degrades_when_fulfillment_fails(world, monkeypatch):
    def broken(**kwargs):
        raise ConnectionError("fulfillment down")

    monkeypatch.setattr(fulfillment, "hub_backlog", broken)

    promise = promise_for(postcode="98101")

    # No last good promise and no two-hour window: the conservative promise has nothing.
    assert promise.conservative and not promise.available
    assert promise.windows == ()


def test_without_a_hub_the_promise_says_unavailable_right_now(world, monkeypatch):
    def broken(**kwargs):
        raise ConnectionError("fulfillment down")

    monkeypatch.setattr(fulfillment, "hub_for_location", broken)

    promise = promise_for(postcode="98101")

    assert not promise.available and promise.message == UNAVAILABLE_NOW


def test_a_location_or_postcode_is_required():
    with pytest.raises(ValidationError):
        promise_for(lat=47.6)


def test_a_warm_promise_costs_no_query(world, django_assert_num_queries):
    promise_for(postcode="98101", basket_skus=[world.products[0].sku])

    with django_assert_num_queries(0):
        promise_for(postcode="98101", basket_skus=[world.products[0].sku])


def test_a_capacity_change_invalidates_the_cached_promise(world):
    assert len(promise_for(postcode="98101").windows) == 1

    window_set_capacity(window_id=world.window.pk, capacity=0)

    assert promise_for(postcode="98101").windows == ()


def test_a_stock_change_invalidates_the_cached_promise(world, django_capture_on_commit_callbacks):
    product = world.products[0]
    assert promise_for(postcode="98101", basket_skus=[product.sku]).unavailable_skus == ()

    with django_capture_on_commit_callbacks(execute=True):  # publishes StockChanged: sold out
        fulfillment.stock_reserve(
            hub_code=world.hub.code,
            lines=[fulfillment.StockLine(product_id=product.id, quantity=10)],
            hold_for=timedelta(minutes=5),
            reference="the last ten",
        )

    assert promise_for(postcode="98101", basket_skus=[product.sku]).unavailable_skus == (
        product.sku,
    )


def test_the_stock_changed_handler_bumps_the_hub_version(world):
    from delivery.facade.promise_cache import hub_version
    from delivery.handlers.facade import on_stock_changed

    before = hub_version(world.hub.code)
    on_stock_changed(StockChanged(hub_code=world.hub.code, product_ids=(1,)))

    assert hub_version(world.hub.code) == before + 1


def test_the_hub_for_an_address_is_kept_in_this_process_for_a_few_seconds(
    world, monkeypatch, django_assert_num_queries
):
    from delivery.facade import promise as promise_module
    from delivery.facade.promise import hub_for_address

    first = hub_for_address(postcode="98101", lat=None, lon=None)

    def no_round_trip(*args, **kwargs):
        raise AssertionError("the shared cache was asked")

    monkeypatch.setattr(promise_module.cache, "get", no_round_trip)
    with django_assert_num_queries(0):
        again = hub_for_address(postcode="98101", lat=None, lon=None)

    assert again == first
