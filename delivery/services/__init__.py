"""The delivery façade: the one door other apps and the edge use (see docs/doors.md).

Re-exports the public commands, queries, DTOs and errors of the modules in this package.
"""

from .checkout import CheckoutUnavailableError, checkout_place
from .dtos import CheckoutLine, CheckoutResult, GenerateReport, PromiseDTO, WindowDTO
from .errors import (
    CheckoutFailedError,
    CheckoutInProgressError,
    IdempotencyKeyMissingError,
    IdempotencyKeyReusedError,
    PriceChangedError,
    WindowClosedError,
    WindowFullError,
    WindowNotFoundError,
    WindowNotServedError,
)
from .promise import promise_for
from .tracking import TrackingDTO, tracking_for
from .windows import window_get, windows_open

__all__ = [
    "CheckoutFailedError",
    "CheckoutInProgressError",
    "CheckoutLine",
    "CheckoutResult",
    "CheckoutUnavailableError",
    "GenerateReport",
    "IdempotencyKeyMissingError",
    "IdempotencyKeyReusedError",
    "PriceChangedError",
    "PromiseDTO",
    "TrackingDTO",
    "WindowClosedError",
    "WindowDTO",
    "WindowFullError",
    "WindowNotFoundError",
    "WindowNotServedError",
    "checkout_place",
    "promise_for",
    "tracking_for",
    "window_get",
    "windows_open",
]
