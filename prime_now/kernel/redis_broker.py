"""kombu's Redis transport, with a channel that closes even when its connection is already gone
(settings: CELERY_BROKER_TRANSPORT).

Why: after Redis was stopped and started again, a worker now and then stopped consuming for
good (the Redis-restart drill, tests/drills, failed about one run in three). kombu's
`Channel.close` first reads the reply of a BRPOP still in flight and lets that read's
ConnectionError abort the close half-way. When the worker learns of the lost connection
elsewhere than from that BRPOP (its remote-control subscription, or a BRPOP paused because
the prefetch was full), Celery collects the connection (the half-done close releases the
transport), then closes it again: restoring the channel's unacknowledged messages then builds
a connection pool from the released transport and raises AttributeError ("'NoneType' object
has no attribute 'hostname'", not a connection error), and the worker's consumer ends with
"Unrecoverable error". It happened whenever a BRPOP was in flight and a task was running as
Redis went. Here a lost connection has nothing more to read, and the close goes on.
"""

from kombu.transport import redis
from kombu.transport.virtual.base import Empty


class Channel(redis.Channel):
    def close(self) -> None:
        if self._in_poll:
            try:
                self._brpop_read()  # type: ignore[no-untyped-call]
            except Empty:
                pass
            except self.connection_errors:
                pass  # the connection is lost: nothing more will come (_in_poll is reset)
        super().close()  # type: ignore[no-untyped-call]


class Transport(redis.Transport):
    Channel = Channel
