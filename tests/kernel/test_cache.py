"""The Redis cache backend keeps one redis-py client per connection pool."""

import pytest
from django.conf import settings

from prime_now.kernel.cache import ReusingRedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_cache():
    # Its own key prefix on the test cache database (never clear(): other workers share it).
    return ReusingRedisCache(settings.CACHES["default"]["LOCATION"], {"KEY_PREFIX": "t-cache"})


def test_repeated_calls_share_one_client(redis_cache):
    # Given a cache, when it is asked for a client twice
    first = redis_cache._cache.get_client()
    second = redis_cache._cache.get_client(write=True)

    # Then both calls get the same client on the same pool
    assert first is second


def test_values_round_trip_through_redis(redis_cache):
    # Given a value stored with a timeout
    redis_cache.set("answer", {"n": 42}, timeout=30)

    # When it is read back, it is the same value; deleted, it is gone
    assert redis_cache.get("answer") == {"n": 42}
    redis_cache.delete("answer")
    assert redis_cache.get("answer") is None
