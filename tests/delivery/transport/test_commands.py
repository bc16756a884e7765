"""seed_couriers and simulate."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from delivery.models import Block, CourierProfile
from delivery.transport.simulator import Simulator
from ordering import services as ordering

from .support import make_courier, make_hub, packed_order

pytestmark = pytest.mark.django_db


def test_seed_couriers_is_idempotent_and_covers_now(hub):
    call_command("seed_couriers", small=True, stdout=StringIO())
    couriers, blocks = CourierProfile.objects.count(), Block.objects.count()
    assert couriers == 2
    assert Block.objects.filter(
        hub_code=hub.code, starts_at__lte=timezone.now(), ends_at__gt=timezone.now()
    ).exists()
    call_command("seed_couriers", small=True, stdout=StringIO())
    assert (CourierProfile.objects.count(), Block.objects.count()) == (couriers, blocks)
    user = CourierProfile.objects.first().user
    assert user.username.startswith("courier-") and user.check_password("prime-now-demo")
    assert user.has_role("courier")
    assert all(c.works_for(hub.code) for c in CourierProfile.objects.all())


def test_the_simulator_delivers_a_packed_order(hub, django_capture_on_commit_callbacks):
    # Given a demo courier at the hub and a packed order 1.1 km away
    make_courier(hub, username="courier-1")
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    sim = Simulator(speed_kmh=20_000)  # a very fast courier: a tick covers the whole ride
    # When it runs a few ticks
    for _ in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            sim.tick()
        sim._last = {pk: timezone.now() - timezone.timedelta(seconds=30) for pk in sim._last}
        if ordering.order_get(number=number).status == "delivered":
            break
    # Then the order is delivered and paid
    order = ordering.order_get(number=number)
    assert order.status == "delivered"
    assert order.payment_status == "captured"


def test_the_simulator_claims_a_block_and_goes_online(hub):
    call_command("seed_couriers", small=True, stdout=StringIO())
    out = StringIO()
    call_command("simulate", once=True, no_pickers=True, stdout=out)
    assert CourierProfile.objects.filter(online=True).count() == 2
    assert "simulator stopped" in out.getvalue()


def test_the_simulator_outlives_a_failing_tick(hub, monkeypatch):
    from types import SimpleNamespace

    calls = []

    def flaky(self):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("fulfillment is down")
        return SimpleNamespace(
            packed=0, accepted=0, delivered=1, moved=0, errors=[], busy=lambda: False
        )

    monkeypatch.setattr(Simulator, "tick", flaky)
    out = StringIO()

    call_command("simulate", "--seconds", "0.3", "--tick", "0.1", stdout=out)

    assert len(calls) >= 2 and "stopped: packed 0, accepted 0, delivered" in out.getvalue()


def test_the_simulator_claims_blocks_only_at_the_hubs_a_courier_works_for(hub):
    # Given a demo courier of SEA-01 and, now, a block with free slots only at SEA-02
    courier = make_courier(hub, username="courier-1", on_block=False, online=False, at=None)
    now = timezone.now()
    there = Block.objects.create(
        hub_code=make_hub("SEA-02").code,
        starts_at=now - timezone.timedelta(minutes=5),
        ends_at=now + timezone.timedelta(hours=1),
        wanted=5,
    )

    # When the simulator runs a tick
    Simulator(pick=False).tick()

    # Then the courier has not claimed the block at a hub they do not work for
    there.refresh_from_db()
    assert there.claimed == 0
    assert not CourierProfile.objects.get(user=courier).online
