"""A Redis cache that fails safe: with Redis down, a read is a miss and a write does nothing.

It is the fault-injecting Redis cache (faultycache: a game day's injected outage is met where a
real one is) with every call guarded.

Every cache and lever read in the project goes through Django's cache, so this one guard
makes all of them degrade instead of failing: a page renders, the promise answers, a checkout
places (each computing from the database what it would have read from the cache). The
client's connect and socket timeouts (settings: REDIS_TIMEOUT_SECONDS) bound how long a
Redis that stops answering can hold a request; after a failure the cache is skipped for
`SKIP_AFTER_FAILURE` seconds, so a dead Redis costs one timeout per process, not one per call.
Each failure is logged and counted (`cache_errors_total`).
"""

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from prometheus_client import Counter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .faultycache import RedisCache

logger = logging.getLogger(__name__)

# What an unreachable or unanswering Redis raises (redis-py's, and the socket's own).
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
SKIP_AFTER_FAILURE = 2.0

cache_errors = Counter("cache_errors_total", "Cache calls that failed (Redis down)", ["call"])

T = TypeVar("T")


class FailSafeRedisCache(RedisCache):
    """Django's Redis cache, each call guarded (see the module docstring)."""

    _down_until = 0.0  # per process: monotonic time before which Redis is not tried

    def _guarded(self, call: str, run: Callable[[], T], fallback: T) -> T:
        if time.monotonic() < FailSafeRedisCache._down_until:
            return fallback
        try:
            return run()
        except OUTAGE_ERRORS as exc:
            FailSafeRedisCache._down_until = time.monotonic() + SKIP_AFTER_FAILURE
            cache_errors.labels(call).inc()
            logger.warning("cache: Redis unavailable on %s, degrading: %s", call, exc)
            return fallback

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._guarded(
            "get", lambda: super(FailSafeRedisCache, self).get(key, default, version), default
        )

    def get_many(self, keys: Any, version: Any = None) -> dict[str, Any]:
        return self._guarded(
            "get_many", lambda: super(FailSafeRedisCache, self).get_many(keys, version), {}
        )

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._guarded(
            "has_key", lambda: super(FailSafeRedisCache, self).has_key(key, version), False
        )

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._guarded(
            "set", lambda: super(FailSafeRedisCache, self).set(key, value, timeout, version), None
        )

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        return self._guarded(
            "set_many", lambda: super(FailSafeRedisCache, self).set_many(data, timeout, version), []
        )

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return self._guarded(
            "add", lambda: super(FailSafeRedisCache, self).add(key, value, timeout, version), False
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._guarded(
            "touch", lambda: super(FailSafeRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._guarded(
            "delete", lambda: super(FailSafeRedisCache, self).delete(key, version), False
        )

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._guarded(
            "delete_many", lambda: super(FailSafeRedisCache, self).delete_many(keys, version), None
        )

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        # A missing key still raises ValueError, as Django's caches do; an outage gives 0.
        return self._guarded(
            "incr", lambda: super(FailSafeRedisCache, self).incr(key, delta, version), 0
        )

    def clear(self) -> None:
        self._guarded("clear", lambda: super(FailSafeRedisCache, self).clear(), None)
