"""An operator's invalid block edit in the admin is a form error, never a 500; valid edits go
through the block service."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import Block
from tests.kernel.factories import UserFactory

from .support import current_block, make_courier

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def change(client, block: Block, wanted: int):
    return client.post(
        reverse("admin:delivery_block_change", args=[block.pk]),
        {
            "wanted": wanted,
            "claims-TOTAL_FORMS": 0,
            "claims-INITIAL_FORMS": 0,
            "claims-MIN_NUM_FORMS": 0,
            "claims-MAX_NUM_FORMS": 1000,
        },
    )


def test_wanting_fewer_couriers_than_have_claimed_is_a_form_error(operator_client, hub):
    # Given a block two couriers have claimed
    make_courier(hub)
    make_courier(hub)
    block = current_block(hub.code)
    block.refresh_from_db()
    assert block.claimed == 2

    # When an operator lowers its wanted couriers to one
    response = change(operator_client, block, wanted=1)

    # Then the form says why, and nothing changed
    assert response.status_code == 200
    assert "2 couriers have claimed this block already" in response.content.decode()
    block.refresh_from_db()
    assert block.wanted == 50


def test_wanting_fewer_couriers_than_wanted_but_not_than_claimed_is_saved(operator_client, hub):
    make_courier(hub)
    block = current_block(hub.code)

    response = change(operator_client, block, wanted=3)

    assert response.status_code == 302
    block.refresh_from_db()
    assert block.wanted == 3


def test_a_block_that_ends_before_it_starts_is_a_form_error(operator_client, hub):
    now = timezone.now()
    response = operator_client.post(
        reverse("admin:delivery_block_add"),
        {
            "hub_code": hub.code,
            "starts_at_0": (now + timedelta(hours=3)).strftime("%Y-%m-%d"),
            "starts_at_1": (now + timedelta(hours=3)).strftime("%H:%M:%S"),
            "ends_at_0": (now + timedelta(hours=1)).strftime("%Y-%m-%d"),
            "ends_at_1": (now + timedelta(hours=1)).strftime("%H:%M:%S"),
            "wanted": 5,
            "claims-TOTAL_FORMS": 0,
            "claims-INITIAL_FORMS": 0,
            "claims-MIN_NUM_FORMS": 0,
            "claims-MAX_NUM_FORMS": 1000,
        },
    )

    assert response.status_code == 200
    assert "A block ends after it starts." in response.content.decode()
    assert not Block.objects.filter(hub_code=hub.code, wanted=5).exists()
