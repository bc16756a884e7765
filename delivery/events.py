"""Facts the delivery app publishes (see docs/doors.md)."""

from dataclasses import dataclass
from datetime import datetime

from prime_now.kernel.bus import Event


@dataclass(frozen=True)
class CheckoutRefused(Event):
    """A checkout attempt ended without an order: `reason` is the error's code
    (`out_of_stock`, `window_full`, `payment_declined`, `address_not_served`,
    `checkout_unavailable`, ...), `step` the checkout step that failed. `hub_code` is empty
    when no hub was found. A retry replaying a recorded refusal publishes nothing."""

    reference: str
    customer_id: int
    hub_code: str
    reason: str
    step: str
    at: datetime | None = None  # when it was refused


@dataclass(frozen=True)
class DeliveryRunningLate(Event):
    """An order will miss its window (the late watch flagged it, once): the customer is told."""

    order_number: str
    window_end: datetime
    expected_at: datetime
