"""The kernel's tasks: deliver an event to one subscriber, relay and purge the outbox.

Celery ships no type information: its decorators are untyped (hence the ignores below).
"""

from typing import Any

from celery import shared_task
from django.conf import settings

from . import bus, deadletters


# max_retries=None here: the limit is EVENT_MAX_RETRIES, then a dead letter. (`retry(max_retries=
# None)` alone means "the task's default", Celery's 3: the event was dropped after 3 retries.)
@shared_task(name="kernel.deliver_event", bind=True, max_retries=None)  # type: ignore[untyped-decorator]
def deliver_event(self: Any, *, event_id: str, handler: str) -> bool:
    """Run the handler; on failure retry with backoff, and after EVENT_MAX_RETRIES retries
    keep the event as a dead letter (never dropped: a failed dead-letter write retries too)."""
    try:
        return bus.deliver(event_id=event_id, handler=handler)
    except Exception as exc:
        retries = self.request.retries
        if retries >= settings.EVENT_MAX_RETRIES:
            try:
                deadletters.event_dead_letter(
                    event_id=event_id, handler=handler, attempts=retries + 1, error=exc
                )
                return False
            except Exception:
                pass  # the database is down too: keep retrying
        countdown = min(2**retries, settings.EVENT_RETRY_BACKOFF_MAX_SECONDS)
        raise self.retry(exc=exc, countdown=countdown, max_retries=None) from exc


@shared_task(name="kernel.relay_event")  # type: ignore[untyped-decorator]
def relay_event(*, event_id: str) -> bool:
    """Hand one committed event on to its subscribers (its publisher asks, after commit)."""
    return bus.relay_published(event_id)


@shared_task(name="kernel.relay_outbox")  # type: ignore[untyped-decorator]
def relay_outbox() -> int:
    return bus.relay_all()


@shared_task(name="kernel.purge_outbox")  # type: ignore[untyped-decorator]
def purge_outbox() -> int:
    return bus.purge()
