"""Admin: reserved is read-only; stock changes only through the adjust action (ledger)."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from fulfillment import services
from fulfillment.models import StockMovement
from fulfillment.services import StockLine
from tests.fulfillment.factories import StockFactory
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_saving_the_form_never_overwrites_a_reservation_made_meanwhile(operator_client):
    row = StockFactory(on_hand=10, aisle="A1", bin="01")
    url = reverse("admin:fulfillment_stock_change", args=[row.pk])
    assert operator_client.get(url).status_code == 200
    # a customer reserves while the operator has the form open
    services.stock_reserve(
        hub_code=row.hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=4)],
        hold_for=timedelta(minutes=5),
        reference="meanwhile",
    )
    response = operator_client.post(
        url,
        {"aisle": "C3", "bin": "09", "low_stock_threshold": 3, "on_hand": 99, "reserved": 0},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.aisle, row.bin, row.on_hand, row.reserved) == ("C3", "09", 10, 4)


def test_the_adjust_action_writes_the_ledger_with_who_and_why(operator_client):
    row = StockFactory(on_hand=10)
    response = operator_client.post(
        reverse("admin:fulfillment_stock_changelist"),
        {
            "action": "adjust",
            ACTION_CHECKBOX_NAME: [row.pk],
            "apply": "1",
            "kind": "damaged",
            "delta": "-3",
            "reason": "crushed box",
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.on_hand == 7
    movement = StockMovement.objects.filter(stock=row).first()
    assert (movement.kind, movement.on_hand_delta, movement.reason) == (
        "damaged",
        -3,
        "crushed box",
    )
    assert movement.actor.is_superuser
    assert services.stock_verify() == ()


def test_the_adjust_action_refuses_to_remove_reserved_units(operator_client):
    row = StockFactory(on_hand=5)
    services.stock_reserve(
        hub_code=row.hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=4)],
        hold_for=timedelta(minutes=5),
        reference="held",
    )
    operator_client.post(
        reverse("admin:fulfillment_stock_changelist"),
        {
            "action": "adjust",
            ACTION_CHECKBOX_NAME: [row.pk],
            "apply": "1",
            "kind": "adjusted",
            "delta": "-2",
            "reason": "miscount",
        },
    )
    row.refresh_from_db()
    assert (row.on_hand, row.reserved) == (5, 4)


def test_every_fulfillment_admin_page_renders(operator_client):
    StockFactory()
    for name in ("hub", "stock", "stockmovement", "reservation", "pickjob"):
        assert (
            operator_client.get(reverse(f"admin:fulfillment_{name}_changelist")).status_code == 200
        )


def test_saving_an_unchanged_form_writes_nothing(operator_client):
    row = StockFactory(on_hand=10, aisle="A1", bin="01", low_stock_threshold=2)
    url = reverse("admin:fulfillment_stock_change", args=[row.pk])
    services.stock_reserve(
        hub_code=row.hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=1)],
        hold_for=timedelta(minutes=5),
        reference="meanwhile",
    )
    response = operator_client.post(url, {"aisle": "A1", "bin": "01", "low_stock_threshold": 2})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.on_hand, row.reserved) == (10, 1)
