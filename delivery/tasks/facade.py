"""Façade tasks: window generation, hold expiry, freeing day-old checkout keys (all idempotent)."""

from celery import shared_task

from ..facade.idempotency import idempotency_keys_purge
from ..facade.windows import window_holds_expire, windows_generate

DEFAULT_DAYS = 7


@shared_task(name="delivery.generate_windows")
def generate_windows(*, days: int = DEFAULT_DAYS) -> int:
    return windows_generate(days=days).created


@shared_task(name="delivery.expire_window_holds")
def expire_window_holds() -> int:
    return window_holds_expire()


@shared_task(name="delivery.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()
