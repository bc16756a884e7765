"""Tracking for the customer: timeline, window, courier position and ETA once assigned."""

import pytest
from rest_framework.test import APIClient

from delivery.models import Offer
from delivery.transport.offers import offer_accept
from tests.kernel.factories import UserFactory

from .support import make_courier, north, packed_order

pytestmark = pytest.mark.django_db


def get(user, number):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(f"/api/v1/orders/{number}/tracking")


def test_a_packed_order_shows_its_timeline_and_window_but_no_courier(
    hub, django_capture_on_commit_callbacks
):
    customer = UserFactory(roles=["customer"])
    number = packed_order(hub, customer=customer, capture=django_capture_on_commit_callbacks)
    body = get(customer, number).json()
    assert body["status"] == "packed"
    assert [e["status"] for e in body["timeline"]][-1] == "packed"
    assert body["window_start"] and body["window_end"]
    assert body["courier_lat"] is None and body["eta"] is None


def test_once_a_courier_has_it_the_customer_sees_where_and_when(
    hub, django_capture_on_commit_callbacks
):
    customer = UserFactory(roles=["customer"])
    courier = make_courier(hub, at=north(0.4))
    number = packed_order(hub, customer=customer, capture=django_capture_on_commit_callbacks)
    offer = Offer.objects.get(job__order_number=number)
    offer_accept(user_id=courier.pk, offer_id=str(offer.pk))
    body = get(customer, number).json()
    assert body["delivery_status"] == "assigned"
    assert body["courier_lat"] == pytest.approx(north(0.4)[0])
    assert body["eta"] is not None


def test_another_customers_order_is_not_found(hub, django_capture_on_commit_callbacks):
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    response = get(UserFactory(roles=["customer"]), number)
    assert response.status_code == 404
    assert APIClient().get(f"/api/v1/orders/{number}/tracking").status_code == 401
