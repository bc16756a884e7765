"""The Redis broker transport keeps one redis-py client per connection pool."""

import pytest
from django.conf import settings
from kombu import Connection

from prime_now.kernel.broker import Transport

pytestmark = pytest.mark.redis


@pytest.fixture
def channel():
    with Connection(settings.CELERY_BROKER_URL, transport=Transport) as connection:
        channel = connection.channel()
        yield channel
        channel.close()


def test_publishing_twice_uses_one_client(channel):
    # Given a channel, when it acquires a client for two publishes
    with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
        # Then both are the same client, on the channel's pool
        assert first is second
        assert first.connection_pool is channel.pool


def test_a_new_pool_gets_a_new_client(channel):
    # Given a client made for the channel's pool
    with channel.conn_or_acquire() as before:
        pass

    # When the pool is replaced (as after a reconnect)
    channel._pool = None

    # Then the next publish gets a client on the new pool
    with channel.conn_or_acquire() as after:
        assert after is not before
        assert after.connection_pool is channel.pool


def test_messages_round_trip_through_redis(channel):
    # Given a queue on the broker
    queue = "t-broker-round-trip"
    channel.queue_declare(queue=queue, auto_delete=True)

    # When a message is published to it and read back, it is the same message
    channel.basic_publish(channel.prepare_message("hello"), exchange="", routing_key=queue)
    message = channel.basic_get(queue=queue, no_ack=True)
    assert message.body == b"hello"
    assert channel.basic_get(queue=queue, no_ack=True) is None
