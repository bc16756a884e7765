"""End to end on PostgreSQL and Redis with a real Celery worker process:
checkout → pick (the simulator's picker) → packed → offered → accepted → delivered."""

import os
import time
import uuid
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from delivery.models import DeliveryJob, Offer
from delivery.services import CheckoutLine, CheckoutRequest, checkout_place
from delivery.transport.simulator import Simulator
from fulfillment import services as fulfillment
from ordering import services as ordering
from prime_now.settings import redis_url_with_db
from tests.delivery.facade.conftest import make_world
from tests.fulfillment.factories import PickerFactory
from tests.kernel.broker import broker_at
from tests.kernel.factories import UserFactory
from tests.kernel.worker import celery_worker, wait_for

from .support import make_courier

BROKER_DB = int(os.environ.get("TEST_REDIS_BROKER_DB", "6"))


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_order_goes_from_checkout_to_delivered_through_a_real_worker():
    # Given a hub with stock, a window, a picker, a courier on shift and a real worker
    world = make_world(products=2)
    hub = world.hub
    PickerFactory(hub=hub)
    make_courier(hub, username=f"courier-e2e-{uuid.uuid4().hex[:6]}", at=(hub.lat, hub.lon))
    customer = UserFactory(roles=["customer"])
    broker_url = redis_url_with_db(settings.REDIS_URL, BROKER_DB)
    redis.Redis.from_url(broker_url).flushdb()
    simulator = Simulator(speed_kmh=3000, hub_codes=(hub.code,))

    with celery_worker(broker_db=BROKER_DB) as worker, broker_at(broker_url):

        def fail(what: str):
            worker.terminate()
            pytest.fail(f"{what}\n--- worker log ---\n{worker.stdout.read()[-6000:]}")

        # When the customer checks out
        result = checkout_place(
            customer_id=customer.pk,
            idempotency_key=str(uuid.uuid4()),
            request=CheckoutRequest(
                lines=tuple(CheckoutLine(sku=p.sku, quantity=1) for p in world.products),
                address="1 Pike St, Seattle",
                postcode="98101",
                lat=hub.lat + 0.01,
                lon=hub.lon,
                window_id=world.window.pk,
                tip=Decimal("2.00"),
                payment_token="tok_visa",
            ),
        )
        number = result.order_number

        # Then the worker asks the hub to pick it (OrderPlaced → pick job)
        def pick_job_exists() -> bool:
            try:
                fulfillment.pick_job_get(order_ref=number)
                return True
            except fulfillment.PickJobNotFoundError:
                return False

        if not wait_for(pick_job_exists, timeout=60):
            fail("no pick job was created")

        # And the simulator picks and packs it, the worker offers it, the courier takes it
        # and rides to the door
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            simulator.tick()
            if ordering.order_get(number=number).status == "delivered":
                break
            time.sleep(0.3)
        else:
            fail(f"order ended {ordering.order_get(number=number).status}")

    order = ordering.order_get(number=number)
    assert order.status == "delivered"
    assert order.payment_status == "captured"
    statuses = [entry.status for entry in order.timeline]
    for step in ("placed", "picking", "packed", "out_for_delivery", "delivered"):
        assert step in statuses
    job = DeliveryJob.objects.get(order_number=number)
    assert job.status == "delivered" and job.accepted_at >= job.packed_at
    assert Offer.objects.filter(job=job, status="accepted").count() == 1
