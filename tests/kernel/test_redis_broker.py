"""The broker's Redis transport (prime_now.kernel.redis_broker) survives Redis going away
under a worker: closing the lost connection, as Celery's worker does before it reconnects,
never raises, so the worker reconnects and consumes again instead of dying."""

import contextlib
import shutil
import socket
import subprocess
import time

import pytest
import redis
from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors

from prime_now.kernel.redis_broker import Transport

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_server():
    """A Redis server of the test's own (it is killed mid-test), on a free port."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, socket_timeout=1)
    for _ in range(50):
        try:
            client.ping()
            break
        except redis.RedisError:
            time.sleep(0.1)
    yield server, f"redis://127.0.0.1:{port}/0"
    server.kill()
    server.wait()


def left_unacked(body, message) -> None:
    """A task still running: its message is not acknowledged yet."""


def drain(connection: Connection) -> None:
    with contextlib.suppress(TimeoutError):
        connection.drain_events(timeout=0.2)


def test_a_lost_connection_with_a_task_unacked_and_its_brpop_paused_closes_cleanly(redis_server):
    # Given a worker's connection: a task delivered and not yet acknowledged, the remote-control
    # subscription, and a BRPOP in flight that was paused (the prefetch lowered, as Celery does
    # once an ETA task runs)
    server, url = redis_server
    connection = Connection(url, transport=Transport)
    channel = connection.default_channel
    channel.basic_qos(0, 2, False)
    tasks = connection.Consumer(
        Queue("tasks", Exchange("tasks"), "tasks"), callbacks=[left_unacked]
    )
    control = connection.Consumer(
        Queue("control", Exchange("control", type="fanout"), auto_delete=True),
        callbacks=[left_unacked],
    )
    tasks.consume()
    control.consume()
    connection.Producer().publish({"n": 1}, exchange="", routing_key="tasks")
    connection.drain_events(timeout=2)
    drain(connection)
    channel.qos.prefetch_count = 1
    drain(connection)
    assert channel._in_poll and len(channel.qos._delivered) == 1

    # When Redis goes away, and the worker collects and closes the lost connection
    server.kill()
    server.wait()
    connection.collect()
    closed = ignore_errors(connection, connection.close)

    # Then the close raises nothing (kombu's own transport raised AttributeError here, and the
    # worker's consumer died with "Unrecoverable error")
    assert closed is None
