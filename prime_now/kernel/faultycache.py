"""The cache's fault point (kernel/faults.py, target `cache`), in each cache backend we use.

With Redis the point is in the client's connection: an injected error is a lost connection,
met exactly where a real outage is (the cache's own fail-safe guard, if any, handles it).
The file and in-memory caches (no Redis configured) cannot lose a connection: there an
injected error acts as a Redis outage would under a fail-safe cache (a read is a miss, a
write does nothing), so a "Redis down" game day means the same on every stack.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache as DjangoFileBasedCache
from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis import Connection

from .faults import InjectedOutage, fault_point


class FaultPointConnection(Connection):
    """redis-py's connection with the cache's fault point before each command (set as the
    cache's OPTIONS["connection_class"])."""

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        fault_point("cache")
        super().send_command(*args, **kwargs)  # type: ignore[no-untyped-call]


class RedisCache(DjangoRedisCache):
    """Django's Redis cache, its connections passing the fault point."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = {**params.get("OPTIONS", {}), "connection_class": FaultPointConnection}
        super().__init__(server, {**params, "OPTIONS": options})


class _FaultPoint:
    """Each read or write first passes the fault point; an injected outage degrades."""

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        try:
            fault_point("cache")
        except InjectedOutage:
            return default
        return super().get(key, default, version)  # type: ignore[misc]

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        try:
            fault_point("cache")
        except InjectedOutage:
            return
        super().set(key, value, timeout, version)  # type: ignore[misc]

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        try:
            fault_point("cache")
        except InjectedOutage:
            return False
        return super().add(key, value, timeout, version)  # type: ignore[misc, no-any-return]

    def delete(self, key: Any, version: Any = None) -> bool:
        try:
            fault_point("cache")
        except InjectedOutage:
            return False
        return super().delete(key, version)  # type: ignore[misc, no-any-return]


class FileBasedCache(_FaultPoint, DjangoFileBasedCache):
    pass


class LocMemCache(_FaultPoint, DjangoLocMemCache):
    pass
