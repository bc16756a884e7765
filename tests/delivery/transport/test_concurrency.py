"""Races on PostgreSQL with real threads: one winner, a clear answer for everyone else."""

import threading

import pytest
from django.db import connection

from delivery.models import Block, DeliveryJob, Offer
from delivery.transport.blocks import block_claim, block_publish
from delivery.transport.errors import BlockFullError, JobTakenError, OfferExpiredError
from delivery.transport.jobs import job_create_for_packed_order
from delivery.transport.offers import job_offer_next, offer_accept, offers_sweep

from .support import age_back, make_courier, north, packed_order

pytestmark = pytest.mark.django_db(transaction=True)


def race(calls):
    """Run the calls at the same moment; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_couriers_accepting_at_once_one_wins_the_other_gets_409(hub, settings):
    settings.DELIVERY_DISPATCH_MAX_MISSES = 0  # offered to everyone at once
    a = make_courier(hub, at=north(0.2))
    b = make_courier(hub, at=north(0.3))
    number = packed_order(hub)
    # Committed transactions relay OrderPacked here: the job is made and broadcast already
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    job_offer_next(job_id=job_id)
    assert Offer.objects.filter(job_id=job_id, broadcast=True, status="pending").count() == 2
    offers = {o.courier.user_id: str(o.pk) for o in Offer.objects.filter(job_id=job_id)}
    results = race(
        [
            lambda: offer_accept(user_id=a.pk, offer_id=offers[a.pk]),
            lambda: offer_accept(user_id=b.pk, offer_id=offers[b.pk]),
        ]
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], JobTakenError), results
    assert errors[0].status == 409
    assert Offer.objects.filter(job_id=job_id, status="accepted").count() == 1
    assert DeliveryJob.objects.get(pk=job_id).status == "assigned"


def test_accepting_while_the_sweeper_expires_the_offer_has_one_outcome(hub):
    courier = make_courier(hub, at=north(0.2))
    make_courier(hub, at=north(1))
    number = packed_order(hub)
    job_id, _ = job_create_for_packed_order(order_number=number, hub_code=hub.code, bags=1)
    job_offer_next(job_id=job_id)
    offer = Offer.objects.get(job_id=job_id)
    age_back(offer, 31)
    results = race(
        [lambda: offer_accept(user_id=courier.pk, offer_id=str(offer.pk)), lambda: offers_sweep()]
    )
    assert isinstance(results[0], OfferExpiredError), results
    job = DeliveryJob.objects.get(pk=job_id)
    assert job.courier is None
    assert Offer.objects.filter(job_id=job_id, status="accepted").count() == 0


def test_twenty_couriers_racing_for_five_block_slots(hub):
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now() + timedelta(hours=2)
    block = block_publish(
        hub_code=hub.code, starts_at=start, ends_at=start + timedelta(hours=3), wanted=5
    )
    couriers = [make_courier(hub, on_block=False, online=False, at=None) for _ in range(20)]
    results = race([lambda c=c: block_claim(user_id=c.pk, block_id=block.id) for c in couriers])
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 5
    assert all(isinstance(e, BlockFullError) for e in losers), losers
    assert Block.objects.get(pk=block.id).claimed == 5
