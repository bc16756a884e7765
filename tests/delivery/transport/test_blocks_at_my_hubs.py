"""A courier claims blocks only at the hubs they work for: the home hub and those added."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from delivery.models import BlockClaim
from delivery.transport.blocks import block_claim, block_publish, blocks_available
from delivery.transport.couriers import courier_get, courier_upsert
from delivery.transport.errors import NotYourHubError

from .support import make_courier, make_hub

pytestmark = pytest.mark.django_db


def block_at(hub, *, wanted=3):
    start = timezone.now() + timedelta(hours=3)
    return block_publish(
        hub_code=hub.code, starts_at=start, ends_at=start + timedelta(hours=4), wanted=wanted
    )


@pytest.fixture
def other_hub(db):
    return make_hub("SEA-02")


def test_a_courier_claims_a_block_at_the_home_hub(hub):
    courier = make_courier(hub, on_block=False)

    claimed = block_claim(user_id=courier.pk, block_id=block_at(hub).id)

    assert claimed.claimed_by_me and claimed.claimed == 1


def test_a_block_at_a_hub_the_courier_does_not_work_for_is_refused(hub, other_hub):
    # Given a courier of SEA-01 and a block at SEA-02
    courier = make_courier(hub, on_block=False)
    block = block_at(other_hub)

    # When they claim it, then it is refused, naming their hubs, and no slot is taken
    with pytest.raises(NotYourHubError) as refused:
        block_claim(user_id=courier.pk, block_id=block.id)

    assert "your hubs: SEA-01" in refused.value.fields["block_id"]
    assert not BlockClaim.objects.exists()
    assert blocks_available(user_id=courier.pk) == ()


def test_a_courier_who_also_works_for_another_hub_claims_its_blocks(hub, other_hub):
    # Given a courier of SEA-01 who also works for SEA-02
    courier = make_courier(hub, on_block=False)
    courier_upsert(user_id=courier.pk, home_hub_code=hub.code, other_hub_codes=[other_hub.code])
    block = block_at(other_hub)

    # When they look for blocks at SEA-02 and claim one, then it is theirs
    assert [b.id for b in blocks_available(user_id=courier.pk, hub_code=other_hub.code)] == [
        block.id
    ]
    assert block_claim(user_id=courier.pk, block_id=block.id).claimed_by_me
    assert courier_get(user_id=courier.pk).hub_codes == ("SEA-01", "SEA-02")


def test_listing_blocks_of_a_hub_the_courier_does_not_work_for_is_refused(hub, other_hub):
    courier = make_courier(hub, on_block=False)
    block_at(other_hub)

    with pytest.raises(NotYourHubError):
        blocks_available(user_id=courier.pk, hub_code=other_hub.code)


def test_the_api_refuses_a_claim_at_another_hub_with_a_clear_error(hub, other_hub):
    # Given a courier of SEA-01 signed in to the API, and a block at SEA-02
    courier = make_courier(hub, on_block=False)
    block = block_at(other_hub)
    api = APIClient()
    api.force_authenticate(courier)

    # When they claim it
    response = api.post(f"/api/v1/courier/blocks/{block.id}/claim")

    # Then the answer is 403 with the error shape, saying why
    assert response.status_code == 403
    body = response.json()["error"]
    assert body["code"] == "not_your_hub"
    assert "SEA-02" in body["fields"]["block_id"]


def test_the_api_shows_a_courier_the_hubs_they_work_for(hub, other_hub):
    courier = make_courier(hub, on_block=False)
    courier_upsert(user_id=courier.pk, home_hub_code=hub.code, other_hub_codes=[other_hub.code])
    api = APIClient()
    api.force_authenticate(courier)

    response = api.get("/api/v1/courier/me")

    assert response.json()["hub_codes"] == ["SEA-01", "SEA-02"]
