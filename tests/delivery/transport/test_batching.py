"""Batching: several jobs from one hub in one bag, when windows and drop-offs fit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.models import Block, Offer, Trip
from delivery.transport.batching import Stop, batch_fits, order_stops
from delivery.transport.blocks import block_claim
from delivery.transport.couriers import courier_upsert
from delivery.transport.errors import NoCapacityError
from delivery.transport.jobs import job_create_for_packed_order
from delivery.transport.offers import job_offer_next, offer_accept
from delivery.transport.trips import trip_arrive_at_hub, trip_current, trip_pick_up

from .support import (
    DOOR,
    HUB_LAT,
    HUB_LON,
    NEAR_DOOR,
    make_courier,
    make_hub,
    north,
    packed_order,
    window,
)

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


def offer_and_accept(hub, courier, **order_kwargs) -> str:
    """Pack an order; with `capture` its events run delivery's handlers, else the job is made
    and offered directly. The courier accepts."""
    number = packed_order(hub, **order_kwargs)
    job_id, created = job_create_for_packed_order(
        order_number=number, hub_code=hub.code, bags=order_kwargs.get("bags", 1)
    )
    if created:
        assert job_offer_next(job_id=job_id) == "offered"
    offer = Offer.objects.get(job_id=job_id, status="pending")
    assert offer.courier.user_id == courier.pk
    offer_accept(user_id=courier.pk, offer_id=str(offer.pk))
    return number


def stop(key, lat, lon, *, start_in=60, length=60, bags=1) -> Stop:
    start = timezone.now() + timedelta(minutes=start_in)
    return Stop(key, lat, lon, start, start + timedelta(minutes=length), bags)


def test_a_second_nearby_job_joins_the_couriers_trip_stops_nearest_first(hub):
    courier = make_courier(hub, bag_capacity=4)
    offer_and_accept(hub, courier, door=NEAR_DOOR)
    offer_and_accept(hub, courier, door=DOOR)
    trip = trip_current(user_id=courier.pk)
    assert len(trip.stops) == 2 and trip.bags == 2
    assert Trip.objects.count() == 1
    # The nearer door (DOOR, 1.1 km) comes first although it was accepted second
    first = Offer.objects.get(job__lat=DOOR[0]).job
    assert first.stop_sequence == 1


def test_a_full_bag_takes_no_more_jobs(hub):
    courier = make_courier(hub, bag_capacity=2)
    offer_and_accept(hub, courier, bags=2)
    number = packed_order(hub)
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    assert job_offer_next(job_id=job_id) == "no_candidate"


def test_a_courier_whose_bags_left_the_hub_gets_no_new_offers(
    hub, django_capture_on_commit_callbacks
):
    courier = make_courier(hub)
    offer_and_accept(hub, courier, capture=django_capture_on_commit_callbacks)
    trip_arrive_at_hub(user_id=courier.pk)
    trip_pick_up(user_id=courier.pk, bags=1)
    number = packed_order(hub)
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    assert job_offer_next(job_id=job_id) == "no_candidate"


def test_a_courier_on_a_trip_from_another_hub_gets_no_offer_here(hub):
    # Given a courier of both hubs whose block here ended with their trip still open, now on a
    # block there
    courier = make_courier(hub)
    offer_and_accept(hub, courier)
    now = timezone.now()
    Block.objects.filter(hub_code=hub.code).update(ends_at=now - timedelta(seconds=30))
    other = make_hub("SEA-02")
    there = Block.objects.create(
        hub_code=other.code, starts_at=now - timedelta(seconds=20), ends_at=now + HOUR, wanted=5
    )
    courier_upsert(user_id=courier.pk, home_hub_code=hub.code, other_hub_codes=[other.code])
    block_claim(user_id=courier.pk, block_id=there.pk)
    # When a job there is offered, then the courier is not asked
    number = packed_order(other)
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=other.code, bags=1)
    assert job_offer_next(job_id=job_id) == "no_candidate"


def test_a_job_for_a_later_window_is_not_batched(hub):
    courier = make_courier(hub)
    offer_and_accept(hub, courier, win=window(30, 60))
    number = packed_order(hub, win=window(180, 60))
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    assert job_offer_next(job_id=job_id) == "no_candidate"


def test_a_far_drop_off_is_not_batched(hub):
    courier = make_courier(hub)
    offer_and_accept(hub, courier)
    number = packed_order(hub, door=north(8))
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    assert job_offer_next(job_id=job_id) == "no_candidate"


def test_accepting_beyond_the_bag_capacity_is_refused(hub, settings):
    # Given a courier holding a broadcast offer while their bag fills up meanwhile
    settings.DELIVERY_DISPATCH_MAX_MISSES = 0
    courier = make_courier(hub, bag_capacity=2)
    first = packed_order(hub, bags=2)
    second = packed_order(hub, bags=1)
    ids = [
        job_create_for_packed_order(order_number=n, hub_code=hub.code, bags=b)[0]
        for n, b in ((first, 2), (second, 1))
    ]
    for job_id in ids:
        job_offer_next(job_id=job_id)
    offers = [Offer.objects.get(job_id=job_id, status="pending") for job_id in ids]
    offer_accept(user_id=courier.pk, offer_id=str(offers[0].pk))
    with pytest.raises(NoCapacityError):
        offer_accept(user_id=courier.pk, offer_id=str(offers[1].pk))
    assert Offer.objects.get(pk=offers[1].pk).status == "withdrawn"


def test_batch_fits_respects_capacity():
    existing = [stop("a", *DOOR, bags=2)]
    assert not batch_fits(
        hub_lat=HUB_LAT,
        hub_lon=HUB_LON,
        existing=existing,
        candidate=stop("b", *NEAR_DOOR, bags=2),
        capacity=3,
        depart_at=timezone.now(),
        speed_kmh=18,
    )
    assert batch_fits(
        hub_lat=HUB_LAT,
        hub_lon=HUB_LON,
        existing=existing,
        candidate=stop("b", *NEAR_DOOR, bags=1),
        capacity=3,
        depart_at=timezone.now(),
        speed_kmh=18,
    )


def test_batch_fits_refuses_a_route_that_misses_a_window():
    # Both windows close in 8 minutes; two doors 1 km apart at 10 km/h cannot both be made
    existing = [stop("a", *north(1), start_in=-52, length=60)]
    candidate = stop("b", *north(2), start_in=-52, length=60)
    assert not batch_fits(
        hub_lat=HUB_LAT,
        hub_lon=HUB_LON,
        existing=existing,
        candidate=candidate,
        capacity=4,
        depart_at=timezone.now(),
        speed_kmh=10,
    )


def test_stops_are_ordered_nearest_first():
    stops = [stop("far", *north(3)), stop("near", *north(1)), stop("mid", *north(2))]
    assert [s.key for s in order_stops(HUB_LAT, HUB_LON, stops)] == ["near", "mid", "far"]


def test_pulling_batching_offers_the_job_to_a_free_courier_not_the_one_on_a_trip(hub):
    from delivery.levers import COURIER_BATCHING
    from prime_now.kernel.levers import lever_set

    busy = make_courier(hub, bag_capacity=4)
    offer_and_accept(hub, busy, door=NEAR_DOOR)
    free = make_courier(hub, at=north(3))  # farther away: batching would have chosen `busy`
    lever_set(COURIER_BATCHING, enabled=False, reason="test")

    number = packed_order(hub, door=DOOR)
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)

    assert job_offer_next(job_id=job_id) == "offered"
    assert Offer.objects.get(job_id=job_id, status="pending").courier.user_id == free.pk
