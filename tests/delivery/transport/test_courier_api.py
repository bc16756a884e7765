"""The courier API over HTTP: couriers only, and each courier sees only their own things."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from delivery.models import Offer
from ordering import services as ordering
from prime_now.kernel.api.throttles import FamilyThrottle
from tests.kernel.factories import UserFactory

from .support import DOOR, current_block, job_for, make_courier, north, packed_order

pytestmark = pytest.mark.django_db

BASE = "/api/v1/courier/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(hub, django_capture_on_commit_callbacks):
    """Courier A holds an offer for a packed order; courier B is on shift too but farther."""
    a = make_courier(hub, at=north(0.2))
    b = make_courier(hub, at=north(3))
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offer = Offer.objects.get(job__order_number=number, status="pending")
    assert offer.courier.user_id == a.pk
    return {
        "a": a,
        "b": b,
        "number": number,
        "offer": str(offer.pk),
        "hub": hub,
        "job": str(job_for(number).pk),
    }


def every_endpoint(world):
    """(method, path, body) for every courier endpoint, aimed at courier A's things."""
    block = current_block(world["hub"].code).pk
    return [
        ("get", "me", None),
        ("post", "status", {"online": True}),
        ("post", "location", {"lat": 47.61, "lon": -122.34}),
        ("get", "blocks", None),
        ("get", "blocks/available", None),
        ("post", f"blocks/{block}/claim", None),
        ("post", f"blocks/{block}/forfeit", None),
        ("get", "offers", None),
        ("post", f"offers/{world['offer']}/accept", None),
        ("post", f"offers/{world['offer']}/decline", None),
        ("get", "trip", None),
        ("post", "trip/arrived-at-hub", None),
        ("post", "trip/picked-up", {"bags": 1}),
        (
            "post",
            f"trip/stops/{world['job']}/delivered",
            {"proof_kind": "photo", "proof_reference": "x", "lat": DOOR[0], "lon": DOOR[1]},
        ),
        ("post", f"trip/stops/{world['job']}/failed", {"reason": "refused"}),
        ("post", f"trip/stops/{world['job']}/proof", {"kind": "photo"}),
        ("get", "earnings", None),
    ]


def test_every_endpoint_needs_a_signed_in_courier(world):
    customer = client_for(UserFactory(roles=["customer"]))
    anonymous = APIClient()
    for method, path, body in every_endpoint(world):
        response = getattr(customer, method)(BASE + path, body, format="json")
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "permission_denied"
        assert getattr(anonymous, method)(BASE + path, body, format="json").status_code == 401


def test_no_endpoint_shows_or_touches_another_couriers_offer_or_trip(world):
    # Given courier A accepted the offer and is heading to the door
    a, b = client_for(world["a"]), client_for(world["b"])
    assert a.post(f"{BASE}offers/{world['offer']}/accept").status_code == 200
    assert a.post(f"{BASE}trip/arrived-at-hub").status_code == 200
    assert a.post(f"{BASE}trip/picked-up", {"bags": 1}, format="json").status_code == 200
    # Then courier B, on every endpoint, sees nothing of it and changes nothing
    for method, path, body in every_endpoint(world):
        response = getattr(b, method)(BASE + path, body, format="json")
        text = response.content.decode()
        assert world["number"] not in text, path
        assert "410 Terry Ave" not in text, path  # the customer's address
        assert world["offer"] not in text, path
        if path.startswith(("offers/", "trip/stops/")):
            assert response.status_code == 404, (path, response.json())
        if path in ("trip/arrived-at-hub", "trip/picked-up"):
            assert response.json()["error"]["code"] == "no_trip"
    assert b.get(BASE + "trip").json() == {"trip": None}
    assert b.get(BASE + "offers").json() == []
    assert job_for(world["number"]).status == "on_the_way"
    assert job_for(world["number"]).courier.user_id == world["a"].pk


def test_the_whole_trip_over_http(world):
    a = client_for(world["a"])
    offers = a.get(BASE + "offers").json()
    assert [o["id"] for o in offers] == [world["offer"]]
    assert "address" not in offers[0]  # an offer shows the area, not the door
    assert a.post(f"{BASE}offers/{world['offer']}/accept").json()["status"] == "accepted"
    trip = a.get(BASE + "trip").json()["trip"]
    assert trip["stops"][0]["address"] is None
    a.post(f"{BASE}trip/arrived-at-hub")
    trip = a.post(f"{BASE}trip/picked-up", {"bags": 1}, format="json").json()["trip"]
    stop = trip["stops"][0]
    assert stop["current"] and stop["address"] and stop["order_number"] == world["number"]
    from delivery.transport.simulator import doorstep_photo

    photo = a.post(
        f"{BASE}trip/stops/{stop['job_id']}/proof",
        {"kind": "photo", "image": SimpleUploadedFile("door.jpg", doorstep_photo())},
        format="multipart",
    )
    assert photo.status_code == 201, photo.json()
    response = a.post(
        f"{BASE}trip/stops/{stop['job_id']}/delivered",
        {
            "proof_kind": "photo",
            "proof_reference": photo.json()["id"],
            "lat": DOOR[0],
            "lon": DOOR[1],
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["trip"]["status"] == "completed"
    assert a.get(BASE + "trip").json() == {"trip": None}
    assert ordering.order_get(number=world["number"]).status == "delivered"


def test_accepting_an_expired_offer_is_409(world):
    from .support import age_back

    age_back(Offer.objects.get(pk=world["offer"]), 60)
    response = client_for(world["a"]).post(f"{BASE}offers/{world['offer']}/accept")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "offer_expired"


def test_bad_input_gets_a_clear_400(world):
    a = client_for(world["a"])
    response = a.post(BASE + "location", {"lat": 123, "lon": "east"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"lat", "lon"}
    assert a.post(f"{BASE}offers/not-a-uuid/accept").status_code == 404


def test_pinging_too_fast_is_429(world, settings):
    settings.DELIVERY_DISPATCH_PING_MIN_INTERVAL_SECONDS = 30
    a = client_for(world["a"])
    response = a.post(BASE + "location", {"lat": 47.61, "lon": -122.34}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "ping_rate_limited"


def test_a_ping_before_the_dispatchers_interval_says_when_to_retry(hub, settings):
    settings.DELIVERY_DISPATCH_PING_MIN_INTERVAL_SECONDS = 30
    courier = client_for(make_courier(hub))  # pinged just now

    response = courier.post(BASE + "location", {"lat": 47.61, "lon": -122.34}, format="json")

    assert response.status_code == 429
    wait = response.json()["error"]["fields"]["retry_after_seconds"]
    assert 1 <= int(response["Retry-After"]) <= 30
    assert abs(int(response["Retry-After"]) - wait) < 1


def test_a_flood_of_pings_is_throttled_in_the_courier_pings_family(hub, settings, monkeypatch):
    # Given no interval between pings, a limit of 2 a minute and a clock that stands still
    settings.DELIVERY_DISPATCH_PING_MIN_INTERVAL_SECONDS = 0
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "courier-pings": "2/min"}
    monkeypatch.setattr(FamilyThrottle, "timer", staticmethod(lambda: 1_000_000.0))
    courier = client_for(make_courier(hub))
    ping = {"lat": 47.61, "lon": -122.34}
    assert courier.post(BASE + "location", ping, format="json").status_code == 202
    assert courier.post(BASE + "location", ping, format="json").status_code == 202

    # When the courier's app pings a third time
    response = courier.post(BASE + "location", ping, format="json")

    # Then it is throttled, told to come back when the minute is over
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert response["Retry-After"] == "60"


def test_blocks_claim_and_forfeit_over_http(world):
    from datetime import timedelta

    from django.utils import timezone

    from delivery.transport.blocks import block_publish

    start = timezone.now() + timedelta(hours=5)
    block = block_publish(
        hub_code=world["hub"].code, starts_at=start, ends_at=start + timedelta(hours=2), wanted=1
    )
    b = client_for(world["b"])
    assert block.id in [x["id"] for x in b.get(BASE + "blocks/available").json()]
    assert b.post(f"{BASE}blocks/{block.id}/claim").json()["claimed_by_me"] is True
    assert b.post(f"{BASE}blocks/{block.id}/claim").status_code == 409
    a = client_for(world["a"])
    assert a.post(f"{BASE}blocks/{block.id}/claim").json()["error"]["code"] in {
        "block_full",
        "block_overlap",
    }
    assert b.post(f"{BASE}blocks/{block.id}/forfeit").status_code == 200
