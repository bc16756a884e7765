"""The dispatcher's admin: live jobs, at-risk filter, offer history, the reassign action."""

import pytest

from delivery.models import DeliveryJob, Offer
from tests.kernel.factories import UserFactory

from .support import make_courier, north, packed_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_the_job_list_and_its_offer_history_render(
    hub, operator, django_capture_on_commit_callbacks
):
    make_courier(hub)
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    job = DeliveryJob.objects.get(order_number=number)
    assert number in operator.get("/admin/delivery/deliveryjob/").content.decode()
    assert operator.get("/admin/delivery/deliveryjob/?attention=at_risk").status_code == 200
    page = operator.get(f"/admin/delivery/deliveryjob/{job.pk}/change/").content.decode()
    assert "pending" in page  # the offer history


def test_reassign_takes_the_job_back_and_offers_it_to_the_named_courier(
    hub, operator, django_capture_on_commit_callbacks
):
    from delivery.transport.offers import offer_accept

    first = make_courier(hub, at=north(0.2))
    second = make_courier(hub, at=north(1), username="courier-second")
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    job = DeliveryJob.objects.get(order_number=number)
    offer_accept(user_id=first.pk, offer_id=str(Offer.objects.get(job=job).pk))
    response = operator.post(
        "/admin/delivery/deliveryjob/",
        {
            "action": "reassign",
            "_selected_action": [str(job.pk)],
            "courier_username": "courier-second",
        },
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "offered" and job.courier is None
    assert Offer.objects.get(job=job, status="pending").courier.user_id == second.pk
    assert not Offer.objects.filter(job=job, status="accepted").exists()
