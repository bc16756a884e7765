from celery import shared_task

from . import services


@shared_task(name="ordering.expire_carts")
def expire_carts() -> int:
    """Delete idle carts (idempotent: an expired cart is simply gone)."""
    return services.carts_expire()


@shared_task(name="ordering.share_popularity")
def share_popularity() -> int:
    """Report units sold lately to the catalog (search ranks by it); idempotent."""
    return services.popularity_share()
