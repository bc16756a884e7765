import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.redis


def test_the_shared_cache_is_django_s_own_redis_cache():
    from django.core.cache.backends.redis import RedisCache
    from django.utils.module_loading import import_string

    # Django's own, with the fault point in its connections (kernel/faultycache.py), no more.
    backend = import_string(settings.CACHES["default"]["BACKEND"])
    assert issubclass(backend, RedisCache) and backend.__mro__[1] is RedisCache


def test_a_value_set_in_the_shared_cache_is_read_back():
    # Given a value written to the shared cache
    cache.set("kernel-test:answer", {"n": 42}, 30)

    # When it is read back
    found = cache.get("kernel-test:answer")

    # Then it is the same value
    assert found == {"n": 42}
