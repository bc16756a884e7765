import pytest
from django.conf import settings
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from prime_now.kernel import breakers, deadline, faults, levers
from tests.kernel.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL or start it)")
    for item in items:
        if "redis" in item.keywords and not settings.USING_REDIS:
            item.add_marker(skip_redis)


@pytest.fixture(scope="session", autouse=True)
def _widget_threads_closed(django_db_setup, django_db_blocker):
    """The storefront's widget threads close their connections before the test database is
    dropped (any test may render a storefront page)."""
    yield
    from prime_now.storefront.assembly import pool_shutdown

    pool_shutdown()
    deadline.pool_shutdown()


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    """Stored files (product pictures) go to a temporary folder, never .run/media."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (only this process's keys are removed), but for
    the levers' and faults' published states: every lever at its default and no fault, as
    the test database holds them (so a test's query count does not include rebuilding them)."""
    _publish_defaults()
    yield
    levers.forget_snapshot()
    faults.forget_snapshot()
    breakers.forget()
    with faults.suspended():
        _clear_caches()


def _clear_caches() -> None:
    caches["local"].clear()
    if settings.USING_REDIS:
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{settings.CACHE_KEY_PREFIX}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    _publish_defaults()


def _publish_defaults() -> None:
    defaults = {name: spec.default for name, spec in levers.declared().items()}
    cache.set(levers.SNAPSHOT_KEY, defaults, levers.SNAPSHOT_TTL)
    cache.set(faults.SNAPSHOT_KEY, [], faults.SNAPSHOT_TTL)


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
