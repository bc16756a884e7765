"""Operators and batch: seed_delivery, tasks, and the window admin (capacity edited live)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from delivery.facade.windows import window_hold
from delivery.models import Window, WindowHold, WindowTemplate
from delivery.tasks.facade import expire_window_holds, generate_windows, purge_idempotency_keys
from tests.fulfillment.factories import HubFactory
from tests.kernel.factories import UserFactory

from .factories import WindowFactory

pytestmark = pytest.mark.django_db


def test_seed_delivery_gives_every_active_hub_windows_round_the_clock_once():
    hub = HubFactory(timezone="UTC")
    HubFactory(active=False)

    call_command("seed_delivery", small=True)
    windows = Window.objects.filter(hub_code=hub.code).count()
    call_command("seed_delivery", small=True)

    assert set(WindowTemplate.objects.values_list("hub_code", "kind")) == {
        (hub.code, "one_hour"),
        (hub.code, "two_hour"),
    }
    assert Window.objects.filter(hub_code=hub.code).count() == windows
    soon = Window.objects.filter(
        hub_code=hub.code,
        cutoff_at__gt=timezone.now(),
        start__lt=timezone.now() + timedelta(hours=1, minutes=30),
    )
    assert {w.kind for w in soon} == {"one_hour", "two_hour"}


def test_the_tasks_have_their_documented_names():
    assert generate_windows.name == "delivery.generate_windows"
    assert expire_window_holds.name == "delivery.expire_window_holds"
    assert purge_idempotency_keys.name == "delivery.purge_idempotency_keys"


def test_the_expiry_task_releases_abandoned_holds():
    window = WindowFactory(capacity=1)
    window_hold(window_id=window.pk, reference="abandoned", now=timezone.now() - timedelta(hours=1))

    assert expire_window_holds.delay().get() == 1

    window.refresh_from_db()
    assert window.held == 0
    assert WindowHold.objects.get().status == "expired"


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_an_operator_changes_a_live_window_capacity_in_the_admin(operator_client):
    window = WindowFactory(capacity=3)

    response = operator_client.post(
        f"/admin/delivery/window/{window.pk}/change/", {"capacity": 8}, follow=True
    )

    assert response.status_code == 200
    window.refresh_from_db()
    assert window.capacity == 8


def test_the_admin_refuses_a_capacity_below_the_booked_seats(operator_client):
    window = WindowFactory(capacity=3, booked=2)

    response = operator_client.post(f"/admin/delivery/window/{window.pk}/change/", {"capacity": 1})

    assert response.status_code == 200  # the form again, with the error
    assert b"already booked" in response.content
    window.refresh_from_db()
    assert window.capacity == 3


def test_the_window_and_checkout_lists_render(operator_client):
    WindowFactory()

    for model in ("window", "windowtemplate", "windowhold", "checkout"):
        assert operator_client.get(f"/admin/delivery/{model}/").status_code == 200, model
