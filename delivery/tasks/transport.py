"""Transport tasks: offers, sweeper, late-order watch. All idempotent (see each service)."""

from celery import shared_task

from ..transport.dispatcher import late_orders_watch
from ..transport.offers import job_offer_next, offers_sweep


@shared_task(name="delivery.offer_job")
def offer_job(*, job_id: str) -> str:
    """Offer a waiting job to the next courier; nothing happens while an offer is out."""
    return job_offer_next(job_id=job_id)


@shared_task(name="delivery.sweep_offers")
def sweep_offers() -> dict[str, int]:
    """Beat, every few seconds: expire offers past `expires_at`, move their jobs on."""
    return offers_sweep()


@shared_task(name="delivery.watch_late_orders")
def watch_late_orders() -> int:
    """Beat, every minute: flag jobs whose ETA passes the end of their window."""
    return late_orders_watch()
