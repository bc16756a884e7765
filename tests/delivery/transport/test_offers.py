"""Offering a packed order: to whom, one at a time, expiry, decline chains, flagging."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.models import Block, DeliveryJob, Offer, OfferStatus
from delivery.transport.couriers import courier_set_online
from delivery.transport.errors import (
    JobTakenError,
    OfferAlreadyAnsweredError,
    OfferExpiredError,
    OfferNotFoundError,
)
from delivery.transport.jobs import job_create_for_packed_order
from delivery.transport.offers import job_offer_next, offer_accept, offer_decline, offers_sweep
from ordering import services as ordering

from .support import age_back, job_for, make_courier, make_hub, north, packed_order, profile

pytestmark = pytest.mark.django_db


def pending_offer(number: str) -> Offer:
    return Offer.objects.get(job__order_number=number, status=OfferStatus.PENDING)


def test_packing_an_order_marks_it_packed_and_offers_it_to_the_nearest_courier(
    hub, django_capture_on_commit_callbacks
):
    # Given two couriers on a block at the hub, one 3 km away and one 0.5 km away
    far = make_courier(hub, at=north(3))
    near = make_courier(hub, at=north(0.5))
    # When a picker packs an order
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    # Then the order is packed, a job exists and the nearer courier has the one offer
    assert ordering.order_get(number=number).status == "packed"
    offers = Offer.objects.filter(job__order_number=number)
    assert [o.courier.user_id for o in offers] == [near.pk]
    assert offers[0].expires_at > timezone.now()
    assert job_for(number).status == "offered"
    assert far.pk != near.pk


def test_pick_started_marks_the_order_picking(hub, django_capture_on_commit_callbacks):
    from delivery.handlers.transport import on_pick_started
    from fulfillment.events import PickStarted
    from tests.ordering.factories import DeliverySnapshotFactory, OrderFactory

    order = OrderFactory(delivery=DeliverySnapshotFactory(hub_code=hub.code))
    on_pick_started(PickStarted(order_ref=order.number, hub_code=hub.code))
    assert ordering.order_get(number=order.number).status == "picking"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"online": False},
        {"on_block": False},
        {"at": None},  # never sent a position
    ],
    ids=["offline", "not-on-a-block", "no-position"],
)
def test_couriers_not_eligible_get_no_offer(hub, kwargs):
    make_courier(hub, **kwargs)
    number = packed_order(hub)
    from delivery.transport.jobs import job_create_for_packed_order

    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    assert job_offer_next(job_id=job_id) == "no_candidate"
    assert DeliveryJob.objects.get(pk=job_id).status == "pending"


def test_a_courier_whose_account_is_deactivated_gets_no_offer(hub):
    # Given a courier on a block, online, at the hub, whose account is then deactivated
    courier = make_courier(hub)
    type(courier).objects.filter(pk=courier.pk).update(is_active=False)
    number = packed_order(hub)
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    # When the job is offered
    outcome = job_offer_next(job_id=job_id)
    # Then nobody is asked
    assert outcome == "no_candidate"
    assert not Offer.objects.filter(job_id=job_id).exists()


def test_a_courier_on_a_block_at_another_hub_gets_no_offer(hub):
    other = make_hub("SEA-02")
    make_courier(other)
    number = packed_order(hub)
    from delivery.transport.jobs import job_create_for_packed_order

    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    assert job_offer_next(job_id=job_id) == "no_candidate"


def test_a_stale_position_makes_a_courier_ineligible(hub):
    from delivery.transport.config import dispatch_config

    courier = make_courier(hub)
    stale = timedelta(seconds=dispatch_config().ping_stale_seconds + 1)
    type(profile(courier)).objects.filter(user=courier).update(located_at=timezone.now() - stale)
    number = packed_order(hub)
    from delivery.transport.jobs import job_create_for_packed_order

    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    assert job_offer_next(job_id=job_id) == "no_candidate"


def test_a_job_that_ends_up_without_couriers_is_retried_by_the_sweeper(
    hub, django_capture_on_commit_callbacks
):
    # Given a packed order and nobody on shift
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    assert job_for(number).status == "pending"
    # When a courier comes online and the sweeper runs
    courier = make_courier(hub)
    offers_sweep(now=timezone.now() + timedelta(seconds=10))
    # Then the job is offered to them
    assert pending_offer(number).courier.user_id == courier.pk


def test_equally_near_couriers_take_turns(hub):
    from delivery.transport.jobs import job_create_for_packed_order

    first = make_courier(hub, at=north(0.2))
    second = make_courier(hub, at=north(0.3))
    got = []
    for _ in range(2):
        number = packed_order(hub)
        job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
        job_offer_next(job_id=job_id)
        offer = pending_offer(number)
        got.append(offer.courier.user_id)
        offer_decline(user_id=offer.courier.user_id, offer_id=str(offer.pk))
    # The one offered first is offered last the next time (both are within the same band)
    assert got == [first.pk, second.pk] or got == [second.pk, first.pk]
    assert len(set(got)) == 2


def test_an_expired_offer_moves_to_the_next_courier(hub, django_capture_on_commit_callbacks):
    first = make_courier(hub, at=north(0.2))
    second = make_courier(hub, at=north(2))
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offer = pending_offer(number)
    assert offer.courier.user_id == first.pk
    # When the offer's time runs out and the sweeper passes
    result = offers_sweep(now=offer.expires_at + timedelta(seconds=1))
    # Then it is expired, counted as a miss, and the next courier has it
    offer.refresh_from_db()
    assert offer.status == "expired"
    assert result["expired"] == 1
    assert pending_offer(number).courier.user_id == second.pk
    assert job_for(number).misses == 1


def test_sweeping_twice_changes_nothing_more(hub, django_capture_on_commit_callbacks):
    make_courier(hub, at=north(0.2))
    make_courier(hub, at=north(2))
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offer = pending_offer(number)
    later = offer.expires_at + timedelta(seconds=1)
    offers_sweep(now=later)
    snapshot = list(Offer.objects.order_by("created_at").values_list("pk", "status", "courier"))
    offers_sweep(now=later)
    assert list(Offer.objects.order_by("created_at").values_list("pk", "status", "courier")) == (
        snapshot
    )
    assert job_for(number).misses == 1


def test_accepting_after_expiry_is_a_clear_conflict(hub, django_capture_on_commit_callbacks):
    courier = make_courier(hub)
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offer = pending_offer(number)
    age_back(offer, 31)  # not yet swept: still "pending" in the table, but past expires_at
    with pytest.raises(OfferExpiredError) as caught:
        offer_accept(user_id=courier.pk, offer_id=str(offer.pk))
    assert caught.value.status == 409
    assert job_for(number).courier is None


def test_accepting_a_swept_offer_is_a_clear_conflict(hub, django_capture_on_commit_callbacks):
    courier = make_courier(hub)
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offer = pending_offer(number)
    offers_sweep(now=offer.expires_at + timedelta(seconds=1))
    with pytest.raises(OfferExpiredError):
        offer_accept(user_id=courier.pk, offer_id=str(offer.pk))


def test_a_decline_chain_walks_the_candidates_nearest_first(
    hub, django_capture_on_commit_callbacks
):
    couriers = [make_courier(hub, at=north(km)) for km in (0.2, 1.5, 3.5)]
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    asked = []
    for _ in couriers:
        offer = pending_offer(number)
        asked.append(offer.courier.user_id)
        with django_capture_on_commit_callbacks(execute=True):
            offer_decline(user_id=offer.courier.user_id, offer_id=str(offer.pk))
    assert asked == [c.pk for c in couriers]
    job = job_for(number)
    assert job.misses == 3
    assert job.status == "pending"  # everyone said no; it waits for the next sweep


def test_after_n_misses_the_job_is_flagged_and_offered_to_everyone(
    hub, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_DISPATCH_MAX_MISSES = 2
    settings.DELIVERY_DISPATCH_REOFFER_AFTER_SECONDS = 0
    couriers = [make_courier(hub, at=north(km)) for km in (0.2, 1.0, 2.0)]
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    for _ in range(2):
        offer = pending_offer(number)
        with django_capture_on_commit_callbacks(execute=True):
            offer_decline(user_id=offer.courier.user_id, offer_id=str(offer.pk))
    job = job_for(number)
    assert job.flagged_at is not None and job.flag_reason == "no_taker"
    assert job.broadcast
    broadcast = Offer.objects.filter(job=job, status=OfferStatus.PENDING, broadcast=True)
    assert {o.courier.user_id for o in broadcast} == {c.pk for c in couriers}


def test_accepting_twice_says_it_was_already_answered(hub, django_capture_on_commit_callbacks):
    courier = make_courier(hub)
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offer = pending_offer(number)
    offer_accept(user_id=courier.pk, offer_id=str(offer.pk))
    with pytest.raises(OfferAlreadyAnsweredError):
        offer_accept(user_id=courier.pk, offer_id=str(offer.pk))


def test_another_couriers_offer_is_not_found(hub, django_capture_on_commit_callbacks):
    make_courier(hub, at=north(0.1))
    stranger = make_courier(hub, at=north(4))
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offer = pending_offer(number)
    with pytest.raises(OfferNotFoundError):
        offer_accept(user_id=stranger.pk, offer_id=str(offer.pk))
    with pytest.raises(OfferNotFoundError):
        offer_decline(user_id=stranger.pk, offer_id=str(offer.pk))


def test_in_a_broadcast_the_first_accept_wins_and_the_rest_are_told(
    hub, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_DISPATCH_MAX_MISSES = 0
    a = make_courier(hub, at=north(0.2))
    b = make_courier(hub, at=north(0.4))
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offers = {o.courier.user_id: o for o in Offer.objects.filter(job__order_number=number)}
    assert set(offers) == {a.pk, b.pk}
    offer_accept(user_id=b.pk, offer_id=str(offers[b.pk].pk))
    with pytest.raises(JobTakenError) as caught:
        offer_accept(user_id=a.pk, offer_id=str(offers[a.pk].pk))
    assert caught.value.status == 409
    assert job_for(number).courier.user_id == b.pk
    assert Offer.objects.filter(job__order_number=number, status="accepted").count() == 1


def test_running_the_offer_task_again_changes_nothing(hub, django_capture_on_commit_callbacks):
    from delivery.tasks.transport import offer_job

    make_courier(hub)
    make_courier(hub, at=north(1))
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    job = job_for(number)
    before = list(Offer.objects.values_list("pk", "status"))
    assert offer_job(job_id=str(job.pk)) == "waiting"
    assert offer_job(job_id=str(job.pk)) == "waiting"
    assert list(Offer.objects.values_list("pk", "status")) == before


def packed_event(hub, number: str, sku: str):
    """The OrderPacked fulfillment publishes for an order of one line of `sku`, all picked."""
    from fulfillment.events import OrderPacked, PackedLine

    line = PackedLine(sku=sku, ordered_quantity=2, picked_quantity=2, substitute_sku="",
                      substitute_quantity=0)  # fmt: skip
    return OrderPacked(order_ref=number, hub_code=hub.code, bags=1, lines=(line,))


def test_a_redelivered_packed_event_makes_no_second_job_or_offer(hub):
    from delivery.handlers.transport import on_order_packed

    make_courier(hub)
    number = packed_order(hub)  # events not relayed: we deliver by hand, twice
    event = packed_event(hub, number, ordering.order_get(number=number).lines[0].sku)
    on_order_packed(event)
    job = job_for(number)
    job_offer_next(job_id=str(job.pk))
    on_order_packed(event)
    job_offer_next(job_id=str(job.pk))
    assert DeliveryJob.objects.filter(order_number=number).count() == 1
    assert Offer.objects.filter(job=job).count() == 1
    assert ordering.order_get(number=number).status == "packed"


def test_an_order_cancelled_while_the_hub_packed_it_is_not_dispatched_nor_retried(hub):
    from delivery.handlers.transport import on_order_packed

    make_courier(hub)
    number = packed_order(hub)  # packed at the hub; its OrderPacked not handled yet
    sku = ordering.order_get(number=number).lines[0].sku
    ordering.order_cancel(number=number, reason="changed my mind")

    # No IllegalTransitionError here: the bus would retry it for minutes
    on_order_packed(packed_event(hub, number, sku))

    assert not DeliveryJob.objects.filter(order_number=number).exists()
    assert ordering.order_get(number=number).status == "cancelled"


def test_a_job_whose_window_cannot_be_met_is_flagged_at_offer_time(hub):
    from delivery.transport.jobs import job_create_for_packed_order

    make_courier(hub)
    # The window ends in 5 minutes; the door is 1 km away plus pickup time
    number = packed_order(
        hub, win=(timezone.now() - timedelta(minutes=55), timezone.now() + timedelta(minutes=5))
    )
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    job_offer_next(job_id=job_id)
    job = DeliveryJob.objects.get(pk=job_id)
    assert job.at_risk and job.flag_reason == "window_at_risk"
    assert job.status == "offered"  # still offered: a late delivery beats none
    assert Block.objects.exists()


def test_a_courier_going_offline_hands_their_offer_to_the_next_courier(
    hub, django_capture_on_commit_callbacks
):
    # Given a job offered to the nearer of two couriers
    near, far = make_courier(hub, at=north(0.2)), make_courier(hub, at=north(1.5))
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    assert pending_offer(number).courier.user_id == near.pk
    # When that courier goes offline (the offer task is enqueued by name and runs at commit)
    with django_capture_on_commit_callbacks(execute=True):
        courier_set_online(user_id=near.pk, online=False)
    # Then the job is offered to the other courier
    assert pending_offer(number).courier.user_id == far.pk
