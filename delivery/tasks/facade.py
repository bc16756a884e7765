"""Façade tasks: window generation, hold expiry, freeing day-old checkout keys, reconciliation
(all idempotent)."""

import logging

from celery import shared_task

from prime_now.kernel.levers import lever_on

from ..facade.idempotency import idempotency_keys_purge
from ..facade.reconcile import reconcile as reconcile_all
from ..facade.windows import window_holds_expire, windows_generate
from ..levers import WINDOWS_AHEAD

DEFAULT_DAYS = 7
logger = logging.getLogger(__name__)


@shared_task(name="delivery.generate_windows")
def generate_windows(*, days: int = DEFAULT_DAYS) -> int:
    """Beat's periodic run (skipped while the `delivery-windows-ahead` lever is pulled)."""
    if not lever_on(WINDOWS_AHEAD):
        logger.info("generate_windows skipped: lever %s is pulled", WINDOWS_AHEAD)
        return 0
    return windows_generate(days=days).created


@shared_task(name="delivery.expire_window_holds")
def expire_window_holds() -> int:
    return window_holds_expire()


@shared_task(name="delivery.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()


@shared_task(name="delivery.reconcile")
def reconcile() -> dict[str, int]:
    return reconcile_all().cases
