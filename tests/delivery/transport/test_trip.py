"""The trip: hub, bags, each door; delivered captures the payment, failed unwinds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.models import Offer, OfferStatus
from delivery.transport.couriers import courier_ping
from delivery.transport.errors import (
    AgeCheckRequiredError,
    BagsMismatchError,
    JobNotFoundError,
    OutsideGeofenceError,
    TripStepError,
)
from delivery.transport.offers import offer_accept
from delivery.transport.trips import (
    stop_deliver,
    stop_fail,
    trip_arrive_at_hub,
    trip_current,
    trip_pick_up,
)
from fulfillment import services as fulfillment
from ordering import services as ordering
from tests.catalog.factories import ProductFactory

from .support import DOOR, job_for, make_courier, north, packed_order, photo_proof

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(hub, django_capture_on_commit_callbacks):
    """A courier who has accepted a packed order: (courier, order number)."""
    courier = make_courier(hub, at=north(0.3))
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offer = Offer.objects.get(job__order_number=number, status=OfferStatus.PENDING)
    offer_accept(user_id=courier.pk, offer_id=str(offer.pk))
    return courier, number


def to_the_door(courier, number):
    trip_arrive_at_hub(user_id=courier.pk)
    trip_pick_up(user_id=courier.pk, bags=1)
    return str(job_for(number).pk)


def test_accepting_gives_the_courier_a_trip_with_an_eta(assigned):
    courier, number = assigned
    trip = trip_current(user_id=courier.pk)
    assert trip.status == "accepted" and len(trip.stops) == 1
    job = job_for(number)
    assert job.status == "assigned" and job.eta is not None
    assert job.eta <= job.window_end


def test_the_address_is_shown_only_once_the_courier_is_heading_there(assigned):
    courier, number = assigned
    stop = trip_current(user_id=courier.pk).stops[0]
    assert stop.address is None and stop.lat is None and stop.order_number is None
    to_the_door(courier, number)
    stop = trip_current(user_id=courier.pk).stops[0]
    assert stop.current and stop.address and stop.lat == DOOR[0]


def test_picking_up_sends_the_order_out_for_delivery(assigned):
    courier, number = assigned
    to_the_door(courier, number)
    assert ordering.order_get(number=number).status == "out_for_delivery"
    assert job_for(number).status == "on_the_way"


def test_delivering_at_the_door_with_proof_delivers_and_captures(assigned):
    courier, number = assigned
    job_id = to_the_door(courier, number)
    photo = photo_proof(courier, job_id)
    stop_deliver(
        user_id=courier.pk,
        job_id=job_id,
        proof_kind="photo",
        proof_reference=photo,
        lat=DOOR[0],
        lon=DOOR[1] + 0.0005,  # about 40 m away
    )
    order = ordering.order_get(number=number)
    assert order.status == "delivered"
    assert order.payment_status == "captured"
    job = job_for(number)
    assert job.status == "delivered" and job.proof_reference == photo
    assert trip_current(user_id=courier.pk) is None  # the trip is complete


def test_delivering_away_from_the_door_is_refused(assigned):
    courier, number = assigned
    job_id = to_the_door(courier, number)
    with pytest.raises(OutsideGeofenceError) as caught:
        stop_deliver(
            user_id=courier.pk,
            job_id=job_id,
            proof_kind="photo",
            proof_reference="p.jpg",
            lat=DOOR[0] + 0.01,  # about 1.1 km off
            lon=DOOR[1],
        )
    assert caught.value.fields["distance_m"] > 1000
    assert ordering.order_get(number=number).status == "out_for_delivery"


def test_delivering_without_proof_is_refused(assigned):
    courier, number = assigned
    job_id = to_the_door(courier, number)
    with pytest.raises(TripStepError):
        stop_deliver(
            user_id=courier.pk,
            job_id=job_id,
            proof_kind="photo",
            proof_reference="  ",
            lat=DOOR[0],
            lon=DOOR[1],
        )


def test_age_restricted_goods_need_an_id_check(hub, django_capture_on_commit_callbacks):
    courier = make_courier(hub)
    wine = ProductFactory(age_restricted=True)
    number = packed_order(hub, product=wine, capture=django_capture_on_commit_callbacks)
    assert job_for(number).age_restricted
    offer = Offer.objects.get(job__order_number=number, status="pending")
    offer_accept(user_id=courier.pk, offer_id=str(offer.pk))
    job_id = to_the_door(courier, number)
    from delivery.transport.proofs import proof_upload
    from delivery.transport.simulator import doorstep_photo

    signed = proof_upload(
        user_id=courier.pk, job_id=job_id, kind="signature", data=doorstep_photo()
    ).id
    proof = {"proof_kind": "signature", "proof_reference": signed, "lat": DOOR[0], "lon": DOOR[1]}
    with pytest.raises(AgeCheckRequiredError):
        stop_deliver(user_id=courier.pk, job_id=job_id, **proof)
    stop_deliver(user_id=courier.pk, job_id=job_id, age_verified=True, **proof)
    assert ordering.order_get(number=number).status == "delivered"


def test_a_failed_delivery_returns_the_goods_and_voids_the_payment(hub, assigned):
    courier, number = assigned
    product_id = fulfillment.pick_job_get(order_ref=number).lines[0].product_id

    def on_hand() -> int:
        return fulfillment.stock_levels(hub_code=hub.code, product_ids=[product_id])[0].on_hand

    before = on_hand()  # the two picked units left the shelf
    job_id = to_the_door(courier, number)
    stop_fail(user_id=courier.pk, job_id=job_id, reason="customer_unavailable", note="No answer")
    order = ordering.order_get(number=number)
    assert order.status == "delivery_failed"
    assert order.payment_status == "voided"
    assert fulfillment.pick_job_get(order_ref=number).status == "returned"
    assert on_hand() == before + 2
    assert job_for(number).failure_reason == "customer_unavailable"
    assert trip_current(user_id=courier.pk) is None


def test_a_failure_needs_a_known_reason(assigned):
    courier, number = assigned
    job_id = to_the_door(courier, number)
    with pytest.raises(TripStepError):
        stop_fail(user_id=courier.pk, job_id=job_id, reason="felt like it")


def test_steps_out_of_order_are_refused(assigned):
    courier, number = assigned
    with pytest.raises(TripStepError):
        trip_pick_up(user_id=courier.pk, bags=1)  # not at the hub yet
    trip_arrive_at_hub(user_id=courier.pk)
    with pytest.raises(TripStepError):
        trip_arrive_at_hub(user_id=courier.pk)
    with pytest.raises(TripStepError):  # cannot deliver before picking up
        stop_deliver(
            user_id=courier.pk,
            job_id=str(job_for(number).pk),
            proof_kind="photo",
            proof_reference="x",
            lat=DOOR[0],
            lon=DOOR[1],
        )


def test_the_bag_count_must_match(assigned):
    courier, _ = assigned
    trip_arrive_at_hub(user_id=courier.pk)
    with pytest.raises(BagsMismatchError):
        trip_pick_up(user_id=courier.pk, bags=2)


def test_another_couriers_stop_is_not_found(hub, assigned):
    courier, number = assigned
    job_id = to_the_door(courier, number)
    other = make_courier(hub, at=north(2))
    from delivery.transport.errors import NoTripError

    with pytest.raises((JobNotFoundError, NoTripError)):
        stop_deliver(
            user_id=other.pk,
            job_id=job_id,
            proof_kind="photo",
            proof_reference="x",
            lat=DOOR[0],
            lon=DOOR[1],
        )


def test_pings_on_the_way_update_the_eta(assigned):
    courier, number = assigned
    to_the_door(courier, number)
    eta_from_hub = job_for(number).eta
    halfway = ((47.6101 + DOOR[0]) / 2, DOOR[1])
    courier_ping(user_id=courier.pk, lat=halfway[0], lon=halfway[1], speed_kmh=20)
    eta_halfway = job_for(number).eta
    courier_ping(user_id=courier.pk, lat=DOOR[0] - 0.0001, lon=DOOR[1], speed_kmh=20)
    assert job_for(number).eta < eta_halfway
    assert eta_halfway - timezone.now() < eta_from_hub - timezone.now() + timedelta(seconds=5)
