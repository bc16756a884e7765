"""Delivery's tables: the façade's (windows, holds, checkouts, idempotency keys) in facade.py,
transportation's (couriers, blocks, delivery jobs, offers, trips) in dispatch.py."""

from .dispatch import *  # noqa: F403
from .facade import *  # noqa: F403
