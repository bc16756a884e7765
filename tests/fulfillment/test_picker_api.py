"""The picker app API: only that hub's staff see or act on its jobs."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from fulfillment.models import PickJob
from tests.fulfillment.factories import HubFactory, PickerFactory, StockFactory
from tests.fulfillment.helpers import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub():
    return HubFactory(code="sea-1")


@pytest.fixture
def rows(hub):
    return [
        StockFactory(hub=hub, on_hand=10, aisle="B", bin="02"),
        StockFactory(hub=hub, on_hand=10, aisle="A", bin="07"),
    ]


@pytest.fixture
def job_id(hub, rows):
    return place_order(hub, rows, order_ref="PN-1001")[0]


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def picker(hub):
    return PickerFactory(hub=hub)


def test_a_picker_claims_sees_the_list_by_aisle_confirms_and_packs(hub, rows, job_id, picker):
    client = client_for(picker)
    # when the picker claims the next job
    claimed = client.post(reverse("v1:fulfillment:picker-claim", args=[hub.code]))
    assert claimed.status_code == 200
    body = claimed.json()
    assert body["id"] == job_id and body["status"] == "picking"
    # then the pick list is in walking order (aisle, bin)
    assert [line["aisle"] for line in body["lines"]] == ["A", "B"]
    # when every line is confirmed and the job packed
    for row in rows:
        response = client.post(
            reverse("v1:fulfillment:picker-line-confirm", args=[job_id, row.sku]),
            {"picked_quantity": 2},
            format="json",
        )
        assert response.status_code == 200, response.json()
    packed = client.post(reverse("v1:fulfillment:picker-pack", args=[job_id]), {"bags": 2})
    # then it is packed with its timings stored
    assert packed.status_code == 200
    assert packed.json()["status"] == "packed" and packed.json()["bags"] == 2
    job = PickJob.objects.get(pk=job_id)
    assert job.claimed_at <= job.picked_at <= job.packed_at


def test_claim_returns_204_when_the_queue_is_empty(hub, picker):
    response = client_for(picker).post(reverse("v1:fulfillment:picker-claim", args=[hub.code]))
    assert response.status_code == 204


def test_anonymous_callers_are_401(hub, job_id):
    response = APIClient().get(reverse("v1:fulfillment:picker-job", args=[job_id]))
    assert response.status_code == 401


@pytest.fixture(params=["other_hub_picker", "customer", "picker_role_without_hub"])
def outsider(request, customer):
    if request.param == "other_hub_picker":
        return PickerFactory(hub=HubFactory(code="sea-2"))
    if request.param == "customer":
        return customer
    picker = PickerFactory(hub=HubFactory(code="sea-3"))
    picker.fulfillment_hubs.all().delete()
    return picker


def endpoints(hub, job_id, sku):
    return [
        ("get", reverse("v1:fulfillment:picker-job", args=[job_id]), None),
        ("post", reverse("v1:fulfillment:picker-claim", args=[hub.code]), None),
        (
            "post",
            reverse("v1:fulfillment:picker-line-confirm", args=[job_id, sku]),
            {"picked_quantity": 1},
        ),
        ("post", reverse("v1:fulfillment:picker-pack", args=[job_id]), {"bags": 1}),
    ]


def test_outsiders_get_403_or_404_on_every_endpoint_and_nothing_leaks(hub, rows, job_id, outsider):
    client = client_for(outsider)
    for method, url, data in endpoints(hub, job_id, rows[0].sku):
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code in (403, 404), (url, response.status_code)
        text = response.content.decode()
        assert "PN-1001" not in text and rows[0].sku not in text
    listing = client.get(reverse("v1:fulfillment:picker-jobs"))
    assert listing.status_code == 403 or listing.json() == []
    # and nothing changed
    job = PickJob.objects.get(pk=job_id)
    assert job.status == "pending" and job.picker_id is None


def test_a_colleague_cannot_confirm_lines_of_a_job_someone_else_claimed(hub, rows, job_id, picker):
    client_for(picker).post(reverse("v1:fulfillment:picker-claim", args=[hub.code]))
    colleague = PickerFactory(hub=hub)
    response = client_for(colleague).post(
        reverse("v1:fulfillment:picker-line-confirm", args=[job_id, rows[0].sku]),
        {"picked_quantity": 2},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "pick_job_state"


def test_the_list_shows_only_my_hubs_jobs(hub, rows, job_id, picker):
    other = HubFactory(code="sea-9")
    place_order(other, [StockFactory(hub=other, on_hand=5)], order_ref="PN-OTHER", quantity=1)
    listing = client_for(picker).get(reverse("v1:fulfillment:picker-jobs"))
    assert listing.status_code == 200
    assert [job["order_ref"] for job in listing.json()] == ["PN-1001"]


def test_bad_input_is_a_clear_400(hub, rows, job_id, picker):
    client = client_for(picker)
    client.post(reverse("v1:fulfillment:picker-claim", args=[hub.code]))
    response = client.post(
        reverse("v1:fulfillment:picker-line-confirm", args=[job_id, rows[0].sku]),
        {"picked_quantity": -1},
        format="json",
    )
    assert response.status_code == 400
    assert "picked_quantity" in response.json()["error"]["fields"]
    too_many = client.post(
        reverse("v1:fulfillment:picker-line-confirm", args=[job_id, rows[0].sku]),
        {"picked_quantity": 3},
        format="json",
    )
    assert too_many.status_code == 400
