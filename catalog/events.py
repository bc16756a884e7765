"""Facts the catalog app publishes (see docs/doors.md).

Both carry product ids only: subscribers re-read what they need through `catalog.services`.
Big batches (an import) are split into several events of at most EVENT_BATCH ids each.
"""

from dataclasses import dataclass

from prime_now.kernel.bus import Event

EVENT_BATCH = 1000


@dataclass(frozen=True)
class ProductChanged(Event):
    """Products were created or changed (name, description, category, active flag...)."""

    product_ids: tuple[int, ...]


@dataclass(frozen=True)
class PriceChanged(Event):
    """The price of these products changed."""

    product_ids: tuple[int, ...]
