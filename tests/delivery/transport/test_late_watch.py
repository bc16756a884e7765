"""The late-order watch flags jobs whose ETA passes the end of their window."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.models import DeliveryJob, Offer
from delivery.tasks.transport import watch_late_orders
from delivery.transport.dispatcher import late_orders_watch
from delivery.transport.jobs import job_create_for_packed_order
from delivery.transport.offers import job_offer_next, offer_accept

from .support import make_courier, north, packed_order

pytestmark = pytest.mark.django_db


def test_a_courier_too_far_away_to_make_the_window_gets_the_job_flagged(hub):
    # Given a courier 20 km out on a bicycle who accepted a job whose window closes in 40 min
    courier = make_courier(hub, at=north(20), vehicle="bicycle")
    start = timezone.now() - timedelta(minutes=20)
    number = packed_order(hub, win=(start, start + timedelta(minutes=60)))
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    job_offer_next(job_id=job_id)
    offer_accept(user_id=courier.pk, offer_id=str(Offer.objects.get(job_id=job_id).pk))
    # When the watch runs
    flagged = late_orders_watch()
    # Then the job is at risk and on the dispatchers' list
    job = DeliveryJob.objects.get(pk=job_id)
    assert flagged == 1
    assert job.at_risk and job.flag_reason == "late"
    assert job.eta > job.window_end


def test_a_job_on_time_is_not_flagged(hub):
    courier = make_courier(hub, at=north(0.2))
    number = packed_order(hub)
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    job_offer_next(job_id=job_id)
    offer_accept(user_id=courier.pk, offer_id=str(Offer.objects.get(job_id=job_id).pk))
    assert late_orders_watch() == 0
    assert not DeliveryJob.objects.get(pk=job_id).at_risk


def test_the_watch_run_twice_flags_and_counts_once(hub):
    start = timezone.now() - timedelta(minutes=58)
    number = packed_order(hub, win=(start, start + timedelta(minutes=60)))
    job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    assert watch_late_orders() == 1
    flagged_at = DeliveryJob.objects.get(order_number=number).flagged_at
    assert watch_late_orders() == 0
    assert DeliveryJob.objects.get(order_number=number).flagged_at == flagged_at
