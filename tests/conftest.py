import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from tests.kernel.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL or start it)")
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL or start it)")
    for item in items:
        if "postgres" in item.keywords and not settings.USING_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.USING_REDIS:
            item.add_marker(skip_redis)


@pytest.fixture(scope="session", autouse=True)
def _test_database_left_alone(django_db_setup, django_db_blocker):
    """Before the test database is dropped: the storefront's widget threads close their
    connections (any test may render a storefront page), and on PostgreSQL every other session
    has ended. A server process ends a moment after its client closes the connection (these
    threads, the concurrency tests' threads, worker processes); a drop in that moment failed
    with "being accessed by other users"."""
    yield
    from prime_now.storefront.assembly import pool_shutdown

    pool_shutdown()
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            _wait_until_alone(timeout=10)


def _wait_until_alone(*, timeout: float) -> None:
    others = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(others)
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (only this process's keys are removed)."""
    yield
    if settings.USING_REDIS:
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{settings.CACHE_KEY_PREFIX}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def customer(db):
    return UserFactory(roles=["customer"])


@pytest.fixture
def customer_client(customer) -> APIClient:
    client = APIClient()
    client.force_authenticate(customer)
    return client
