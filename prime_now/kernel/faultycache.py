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
from django.core.cache.backends.redis import RedisCacheClient
from redis import Connection

from .faults import InjectedOutage, fault_point


class FaultPointConnection(Connection):
    """redis-py's connection with the cache's fault point before each command (set as the
    cache's OPTIONS["connection_class"])."""

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        fault_point("cache")
        super().send_command(*args, **kwargs)  # type: ignore[no-untyped-call]


class OneClientPerPool(RedisCacheClient):
    """Django's Redis cache client, keeping the redis-py client it makes for a connection pool.
    Django makes a new one for every cache call, and making one (its reply callbacks) cost
    about 0.1 ms, several times a checkout (docs/performance.md). A redis-py client holds no
    connection of its own (its pool does), so sharing one is what redis-py intends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache, its connections passing the fault point."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = {**params.get("OPTIONS", {}), "connection_class": FaultPointConnection}
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = OneClientPerPool


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
