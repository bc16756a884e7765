"""Dead letters: work given up on is kept, counted and replayable, never dropped silently.

Two kinds reach here:

- an event whose handler kept failing: `kernel.deliver_event` retried it EVENT_MAX_RETRIES
  times with backoff, then writes a dead letter (event, handler, attempts, last error and
  traceback) instead of retrying again;
- a task whose worker died with it TASK_MAX_DELIVERIES times (a task that crashes its worker
  comes back each time, acks are late): `CountedTask` dead-letters it instead of running it
  once more.

Each one increments `dead_letters_total{kind,name}` and logs an error. An operator replays
them from the admin ("Retry now") or with `manage.py dead_letters --replay`; a replayed event
runs its handler at most once (the bus records handled events), so replaying twice is safe.
"""

import logging
import traceback as tb
import uuid
from typing import Any

import redis
from celery import Task, current_app
from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from prometheus_client import Counter

from .bus import queue_for
from .models import DeadLetter, DeadLetterKind, OutboxEvent

logger = logging.getLogger(__name__)

dead_letters = Counter(
    "dead_letters_total", "Work given up on and kept as a dead letter", ["kind", "name"]
)

# Where a task's deliveries are counted: the broker's own Redis (one INCR per task run).
DELIVERIES_KEY = "kernel:task-deliveries:{id}:{retries}"
DELIVERIES_TTL = 24 * 3600


def event_dead_letter(*, event_id: str, handler: str, attempts: int, error: BaseException) -> None:
    """Keep an event whose handler exhausted its retries."""
    _write(
        kind=DeadLetterKind.EVENT,
        name=handler,
        event_id=event_id if OutboxEvent.objects.filter(pk=event_id).exists() else None,
        kwargs={"event_id": event_id, "handler": handler},
        attempts=attempts,
        last_error=f"{type(error).__name__}: {error}",
        trace="".join(tb.format_exception(error)),
    )


def task_dead_letter(*, name: str, kwargs: dict[str, Any], deliveries: int) -> None:
    """Keep a task that came back after its worker died, too many times to run again."""
    _write(
        kind=DeadLetterKind.TASK,
        name=name,
        event_id=None,
        kwargs=kwargs,
        attempts=deliveries,
        last_error=f"worker lost {deliveries - 1} times while running it",
        trace="",
    )


def _write(
    *,
    kind: DeadLetterKind,
    name: str,
    event_id: str | None,
    kwargs: dict[str, Any],
    attempts: int,
    last_error: str,
    trace: str,
) -> None:
    DeadLetter.objects.create(
        kind=kind,
        name=name,
        event_id=uuid.UUID(event_id) if event_id else None,
        kwargs=kwargs,
        attempts=attempts,
        last_error=last_error[:2000],
        traceback=trace[-20000:],
    )
    dead_letters.labels(kind.value, name).inc()
    logger.error("dead letter: %s %s after %s attempts: %s", kind.value, name, attempts, last_error)


def replay(letters: QuerySet[DeadLetter]) -> int:
    """Send these dead letters' work again (an event to its handler, a task by name, both on
    their queues) and mark them replayed. Returns how many were sent."""
    sent = 0
    for letter in letters.order_by("created_at"):
        if letter.kind == DeadLetterKind.EVENT:
            task_name, queue = "kernel.deliver_event", queue_for(letter.name)
        else:
            task_name, queue = letter.name, None
        current_app.tasks[task_name].apply_async(kwargs=letter.kwargs, queue=queue)
        DeadLetter.objects.filter(pk=letter.pk).update(
            replayed_at=timezone.now(), replays=F("replays") + 1
        )
        sent += 1
    return sent


class CountedTask(DjangoTask):  # type: ignore[misc]
    """Every task's base: counts the deliveries of each task message (and retry) in the
    broker's Redis, and dead-letters one that came back TASK_MAX_DELIVERIES times, its
    worker having died each time, instead of letting it crash workers forever."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if not request.is_eager and request.id and _too_many_deliveries(self, request):
            return None  # acknowledged: the work waits in the dead letter
        return super().__call__(*args, **kwargs)


def _too_many_deliveries(task: Task, request: Any) -> bool:
    key = DELIVERIES_KEY.format(id=request.id, retries=request.retries or 0)
    deliveries = _count_delivery(key)
    if deliveries is None or deliveries <= settings.TASK_MAX_DELIVERIES:
        return False
    with transaction.atomic():
        task_dead_letter(name=task.name, kwargs=dict(request.kwargs or {}), deliveries=deliveries)
    return True


_counter_clients: dict[str, redis.Redis] = {}  # by broker URL


def _count_delivery(key: str) -> int | None:
    """This delivery's number (1 for the first), or None when it cannot be counted (a
    broker that is not Redis, or Redis gone: the task runs, as it would have)."""
    broker = str(current_app.conf.broker_url or "")
    if not broker.startswith(("redis://", "rediss://")):
        return None
    try:
        client = _counter_clients.get(broker)
        if client is None:
            client = _counter_clients[broker] = redis.Redis.from_url(
                broker,
                socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
                socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
            )
        pipe = client.pipeline()
        pipe.incr(key)
        pipe.expire(key, DELIVERIES_TTL)
        count, _ = pipe.execute()
        return int(count)
    except redis.RedisError:
        logger.warning("kernel: could not count the deliveries of %s", key, exc_info=True)
        return None
