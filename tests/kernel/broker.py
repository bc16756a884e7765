"""Point the Celery app at another broker for a test: a dead port, or a clean Redis database."""

from collections.abc import Iterator
from contextlib import contextmanager

from celery import current_app
from kombu import pools


def _reset_connections(app) -> None:
    # Celery caches its connection and producer pools (kombu keeps a registry by URL):
    # drop them all so the next send connects to the broker now configured.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Send tasks to `url` for real (not eagerly) inside the block."""
    app = current_app
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    _reset_connections(app)
    try:
        yield
    finally:
        _reset_connections(app)
        app.conf.broker_url, app.conf.task_always_eager = saved


# Nothing listens on port 1: the broker is down.
DEAD_BROKER = "redis://127.0.0.1:1/0"
