"""Delivery's tables: the façade's (windows, holds, checkouts, idempotency keys) in facade.py,
transport's (couriers, blocks, delivery jobs, offers, trips) in transport.py."""

from .facade import *  # noqa: F403
from .transport import *  # noqa: F403
