"""Blocks (claim first come, forfeit until the cut-off) and location pings."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.transport.blocks import (
    block_claim,
    block_forfeit,
    block_publish,
    blocks_available,
    blocks_for_courier,
)
from delivery.transport.couriers import courier_ping, courier_upsert
from delivery.transport.errors import (
    BlockAlreadyClaimedError,
    BlockFullError,
    BlockOverlapError,
    ForfeitTooLateError,
    InvalidBlockError,
    NotACourierError,
    PingTooFrequentError,
)
from tests.kernel.factories import UserFactory

from .support import make_courier

pytestmark = pytest.mark.django_db


def later_block(hub, *, hours_from_now=3, wanted=1):
    start = timezone.now() + timedelta(hours=hours_from_now)
    return block_publish(
        hub_code=hub.code, starts_at=start, ends_at=start + timedelta(hours=4), wanted=wanted
    )


def test_a_block_is_claimed_until_full(hub):
    block = later_block(hub, wanted=1)
    first = make_courier(hub, on_block=False)
    second = make_courier(hub, on_block=False)
    assert block_claim(user_id=first.pk, block_id=block.id).claimed == 1
    with pytest.raises(BlockFullError):
        block_claim(user_id=second.pk, block_id=block.id)
    assert blocks_available(user_id=second.pk) == ()


def test_a_block_cannot_be_claimed_twice_or_overlap_another(hub):
    courier = make_courier(hub, on_block=False)
    block = later_block(hub, wanted=5)
    block_claim(user_id=courier.pk, block_id=block.id)
    with pytest.raises(BlockAlreadyClaimedError):
        block_claim(user_id=courier.pk, block_id=block.id)
    overlapping = block_publish(
        hub_code=hub.code,
        starts_at=block.starts_at + timedelta(hours=1),
        ends_at=block.ends_at + timedelta(hours=1),
        wanted=5,
    )
    with pytest.raises(BlockOverlapError):
        block_claim(user_id=courier.pk, block_id=overlapping.id)


def test_forfeiting_before_the_cutoff_reopens_the_slot(hub):
    courier = make_courier(hub, on_block=False)
    block = later_block(hub, hours_from_now=3, wanted=1)
    block_claim(user_id=courier.pk, block_id=block.id)
    assert block_forfeit(user_id=courier.pk, block_id=block.id).open_slots == 1
    assert blocks_for_courier(user_id=courier.pk) == ()


def test_forfeiting_after_the_cutoff_is_refused(hub):
    courier = make_courier(hub, on_block=False)
    block = later_block(hub, hours_from_now=0.25, wanted=1)  # starts in 15 minutes
    block_claim(user_id=courier.pk, block_id=block.id)
    with pytest.raises(ForfeitTooLateError):
        block_forfeit(user_id=courier.pk, block_id=block.id)


def test_a_block_must_end_after_it_starts_at_a_known_hub(hub):
    start = timezone.now() + timedelta(hours=1)
    with pytest.raises(InvalidBlockError) as caught:
        block_publish(hub_code="NOPE", starts_at=start, ends_at=start, wanted=0)
    assert set(caught.value.fields) == {"hub_code", "ends_at", "wanted"}


def test_only_couriers_have_courier_services(hub):
    customer = UserFactory(roles=["customer"])
    with pytest.raises(NotACourierError):
        blocks_available(user_id=customer.pk)


def test_a_profile_gives_the_courier_role(hub):
    user = UserFactory()
    courier_upsert(user_id=user.pk, home_hub_code=hub.code, bag_capacity=3)
    assert user.has_role("courier")


def test_pings_faster_than_the_limit_are_refused(hub, settings):
    settings.DELIVERY_DISPATCH_PING_MIN_INTERVAL_SECONDS = 5
    courier = make_courier(hub, at=None)
    now = timezone.now()
    courier_ping(user_id=courier.pk, lat=47.61, lon=-122.34, at=now)
    with pytest.raises(PingTooFrequentError) as caught:
        courier_ping(user_id=courier.pk, lat=47.62, lon=-122.34, at=now + timedelta(seconds=1))
    assert caught.value.status == 429
    courier_ping(user_id=courier.pk, lat=47.62, lon=-122.34, at=now + timedelta(seconds=6))


def test_a_ping_off_the_globe_is_refused(hub):
    from prime_now.kernel.errors import ValidationError

    courier = make_courier(hub, at=None)
    with pytest.raises(ValidationError):
        courier_ping(user_id=courier.pk, lat=91, lon=0)
