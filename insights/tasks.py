from celery import shared_task

from . import recording


@shared_task(name="insights.mark_lost")
def mark_lost() -> int:
    """Drop as lost the orders with no end long past their window (beat, every minute)."""
    return recording.mark_lost()
