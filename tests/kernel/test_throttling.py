"""API throttling: DRF throttles on the shared cache, per endpoint family (auth, reads,
checkout, courier pings, the rest) and per caller (partner key, else user, else address);
every 429 carries Retry-After and the error shape."""

import pytest
from rest_framework.test import APIClient

from prime_now.kernel.api.throttles import FamilyThrottle
from prime_now.kernel.cache import FailSafeRedisCache
from tests.kernel.factories import UserFactory, partner_key

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/catalog/products"


class Clock:
    """The throttles' clock, moved by the test (no test waits for a real minute)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(FamilyThrottle, "timer", clock)
    return clock


@pytest.fixture
def limits(settings):
    """Set some families' limits for this test: limits(reads="2/min")."""

    def set_limits(**rates: str) -> None:
        settings.API_THROTTLE_RATES = {
            **settings.API_THROTTLE_RATES,
            **{family.replace("_", "-"): rate for family, rate in rates.items()},
        }

    return set_limits


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_reads_over_the_limit_get_429_in_the_error_shape(api_client, limits, clock):
    limits(reads="3/min")
    for _ in range(3):
        assert api_client.get(PRODUCTS).status_code == 200

    response = api_client.get(PRODUCTS)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert response.json()["error"]["fields"] == {}
    assert "Retry-After" in response


def test_retry_after_is_the_seconds_until_the_oldest_request_leaves_the_window(
    api_client, limits, clock
):
    limits(reads="2/min")
    api_client.get(PRODUCTS)  # t = 0
    clock.now += 10
    api_client.get(PRODUCTS)  # t = 10
    clock.now += 10.5

    response = api_client.get(PRODUCTS)  # t = 20.5: the first leaves at t = 60

    assert response.status_code == 429
    assert response["Retry-After"] == "40"  # 39.5 s, rounded up


def test_a_caller_is_let_in_again_after_retry_after(api_client, limits, clock):
    limits(reads="1/min")
    api_client.get(PRODUCTS)
    refused = api_client.get(PRODUCTS)
    assert refused.status_code == 429

    clock.now += int(refused["Retry-After"])

    assert api_client.get(PRODUCTS).status_code == 200


def test_families_are_counted_apart(api_client, limits, clock):
    limits(reads="1/min")
    api_client.get(PRODUCTS)
    assert api_client.get(PRODUCTS).status_code == 429

    # The token endpoint (auth family) still answers this address
    response = api_client.post("/api/v1/auth/token", {"username": "x", "password": "y"})

    assert response.status_code == 400


def test_signed_in_users_are_counted_apart(limits, clock):
    limits(api="2/min")
    ana, ben = signed_in(UserFactory()), signed_in(UserFactory())
    ana.get("/api/v1/me")
    ana.get("/api/v1/me")

    assert ana.get("/api/v1/me").status_code == 429
    assert ben.get("/api/v1/me").status_code == 200


def test_partner_keys_are_counted_apart_from_each_other_and_the_address(api_client, limits, clock):
    limits(reads="1/min")
    _, first = partner_key("catalog:read")
    _, second = partner_key("catalog:read")
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {first}")
    api_client.get(PRODUCTS)

    assert api_client.get(PRODUCTS).status_code == 429
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {second}")
    assert api_client.get(PRODUCTS).status_code == 200
    api_client.credentials()
    assert api_client.get(PRODUCTS).status_code == 200


def test_an_address_is_counted_whatever_x_forwarded_for_says(api_client, limits, clock):
    limits(reads="1/min")
    api_client.get(PRODUCTS, HTTP_X_FORWARDED_FOR="10.0.0.1")

    response = api_client.get(PRODUCTS, HTTP_X_FORWARDED_FOR="10.0.0.2")

    assert response.status_code == 429


def test_checkout_has_its_own_limit(limits, clock):
    limits(checkout="1/min")
    shopper = signed_in(UserFactory(roles=["customer"]))
    first = shopper.post("/api/v1/checkout", {}, format="json", headers={"Idempotency-Key": "a"})
    assert first.status_code == 400  # counted, though the body was not valid

    second = shopper.post("/api/v1/checkout", {}, format="json", headers={"Idempotency-Key": "b"})

    assert second.status_code == 429
    assert second.json()["error"]["code"] == "throttled"


def test_throttling_can_be_switched_off(api_client, limits, clock, settings):
    limits(reads="1/min")
    settings.API_THROTTLE_ENABLED = False

    assert [api_client.get(PRODUCTS).status_code for _ in range(3)] == [200, 200, 200]


def test_with_redis_down_nobody_is_throttled_and_nothing_fails(
    api_client, limits, clock, settings, monkeypatch
):
    # Given the shared cache on a Redis that does not answer
    monkeypatch.setattr(FailSafeRedisCache, "_down_until", 0.0)
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "prime_now.kernel.cache.FailSafeRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    limits(reads="1/min")

    # When a caller goes over the limit
    statuses = [api_client.get(PRODUCTS).status_code for _ in range(3)]

    # Then every request is answered: the throttle degrades, it does not fail
    assert statuses == [200, 200, 200]


def test_a_view_in_no_family_has_a_limit_too(limits, clock):
    limits(api="1/min")
    client = signed_in(UserFactory())
    client.get("/api/v1/cart")

    assert client.get("/api/v1/cart").status_code == 429
