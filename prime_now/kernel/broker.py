"""Kombu's Redis transport, keeping one redis-py client per connection pool.

Kombu's Redis channel builds a new `redis.Redis` for every message it publishes
(`Channel.conn_or_acquire`), and redis-py sets up some 170 response callbacks per instance:
that cost about a third of a checkout's publish. The client only wraps the pool and is
thread-safe, so one per pool is enough (a new pool, after a reconnect, gets a new client).
Selected with `CELERY_BROKER_TRANSPORT` when the broker is Redis.
"""

from contextlib import contextmanager

from kombu.transport import redis


class Channel(redis.Channel):
    _publishing_client = None

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        cached = self._publishing_client
        if cached is None or cached.connection_pool is not self.pool:
            cached = self._publishing_client = self._create_client()
        yield cached


class Transport(redis.Transport):
    Channel = Channel
