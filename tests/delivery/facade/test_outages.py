"""Redis down degrades, a lost database is a 503: the promise answers, checkout places or
says "try again" with Retry-After, never a 500."""

import pytest
from django.db import OperationalError

from delivery import levers
from prime_now.kernel.api.errors import exception_handler
from prime_now.kernel.cache import FailSafeRedisCache
from prime_now.kernel.levers import forget_snapshot, lever_set
from prime_now.kernel.outage import OutageMiddleware
from prime_now.settings import LOCAL_CACHE

from .conftest import checkout_body

PROMISE = "/api/v1/delivery/promise"
# Nothing listens on port 1: a Redis that is down.
DEAD_REDIS = {
    "default": {
        "BACKEND": "prime_now.kernel.cache.FailSafeRedisCache",
        "LOCATION": "redis://127.0.0.1:1/1",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
    "local": LOCAL_CACHE,
}


@pytest.fixture
def redis_down(settings):
    FailSafeRedisCache._down_until = 0.0
    settings.CACHES = DEAD_REDIS
    yield
    FailSafeRedisCache._down_until = 0.0


@pytest.mark.django_db
def test_with_redis_down_the_promise_still_answers(api_client, world, redis_down):
    response = api_client.get(PROMISE, {"postcode": "98101", "basket": world.products[0].sku})

    assert response.status_code == 200
    assert response.json()["windows"][0]["id"] == world.window.pk


@pytest.mark.django_db
def test_with_redis_down_a_pulled_lever_is_read_from_the_database(api_client, world, redis_down):
    # Given the precise promise shed by its lever, while Redis is down
    lever_set(levers.PRECISE_PROMISE, enabled=False, reason="test")
    forget_snapshot()

    response = api_client.get(PROMISE, {"postcode": "98101"})

    # Then the promise still answers, the lever obeyed (the conservative promise)
    assert response.status_code == 200
    assert response.json()["conservative"] is True


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_a_checkout_places_the_order(customer_client, world, redis_down):
    response = customer_client.post(
        "/api/v1/checkout", checkout_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-redis"
    )

    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_with_redis_down_storefront_pages_render(client, world, redis_down):
    assert client.get("/").status_code == 200


def test_redis_down_makes_reads_misses_and_writes_no_ops(redis_down):
    from django.core.cache import cache

    cache.set("k", 1)

    assert cache.get("k", "missed") == "missed"
    assert cache.add("k", 1) is False
    assert cache.get_many(["k"]) == {}


def test_a_lost_database_answers_503_with_retry_after_in_the_api_error_shape():
    response = exception_handler(OperationalError("terminating connection"), {})

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.data["error"]["code"] == "service_unavailable"


def test_a_lost_broker_on_a_page_answers_503_not_500(rf):
    middleware = OutageMiddleware(lambda request: None)

    response = middleware.process_exception(rf.get("/"), OperationalError("server closed"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert middleware.process_exception(rf.get("/"), RuntimeError("a bug")) is None
