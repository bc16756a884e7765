from celery import shared_task

from . import services


@shared_task(name="fulfillment.expire_reservations")
def expire_reservations() -> int:
    """Release stock holds past their time (beat, every 30 s). Safe to run twice at once."""
    return services.reservations_expire()
