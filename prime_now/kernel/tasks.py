"""The kernel's tasks: deliver an event to one subscriber, relay and purge the outbox.

Celery ships no type information: its decorators are untyped (hence the ignores below).
"""

from typing import Any

from celery import shared_task

from . import bus


@shared_task(name="kernel.deliver_event", bind=True, max_retries=8)  # type: ignore[untyped-decorator]
def deliver_event(self: Any, *, event_id: str, handler: str) -> bool:
    try:
        return bus.deliver(event_id=event_id, handler=handler)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 300)) from exc


@shared_task(name="kernel.relay_outbox")  # type: ignore[untyped-decorator]
def relay_outbox() -> int:
    return bus.relay_all()


@shared_task(name="kernel.purge_outbox")  # type: ignore[untyped-decorator]
def purge_outbox() -> int:
    return bus.purge()
