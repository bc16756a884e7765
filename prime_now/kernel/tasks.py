from celery import shared_task

from . import bus


@shared_task(name="kernel.deliver_event", bind=True, max_retries=8)
def deliver_event(self, *, event_id: str, handler: str) -> bool:
    try:
        return bus.deliver(event_id=event_id, handler=handler)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 300)) from exc


@shared_task(name="kernel.relay_outbox")
def relay_outbox() -> int:
    return bus.relay_all()


@shared_task(name="kernel.purge_outbox")
def purge_outbox() -> int:
    return bus.purge()
