"""Errors the delivery façade raises (besides the ones it passes on from the apps below)."""

from prime_now.kernel.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    UnavailableError,
)


class WindowNotFoundError(NotFoundError):
    """No delivery window has this id (`fields["window_id"]`)."""

    code = "window_not_found"
    default_message = "This delivery window does not exist."


class WindowFullError(ConflictError):
    """The window has no free seat left (`fields["window_id"]`)."""

    code = "window_full"
    default_message = "This delivery window is full. Please choose another window."


class WindowClosedError(ConflictError):
    """The window's cut-off has passed: it takes no new orders (`fields["window_id"]`)."""

    code = "window_closed"
    default_message = "This delivery window is closed for new orders. Please choose another."


class WindowNotServedError(ApplicationError):
    """The window belongs to another hub than the one serving the address (HTTP 422)."""

    code = "window_not_for_address"
    status = 422
    default_message = (
        "This delivery window belongs to another hub than the one serving the address."
    )


class PriceChangedError(ConflictError):
    """The basket's subtotal at today's prices is not the expected one; `fields` hold the
    subtotal, the expected subtotal and each SKU's price."""

    code = "price_changed"
    default_message = "Prices changed since you last saw your basket. Please review the new total."


class CheckoutInProgressError(ConflictError):
    """Another run of the checkout with this idempotency key is still going: retry shortly."""

    code = "checkout_in_progress"
    default_message = "This checkout is still being processed. Retry in a moment."


class IdempotencyKeyMissingError(ApplicationError):
    """The checkout request has no Idempotency-Key header, or one that is too long."""

    code = "idempotency_key_missing"
    status = 400
    default_message = "Send an Idempotency-Key header (a unique value per checkout attempt)."


class CheckoutUnavailableError(UnavailableError):
    """A service behind checkout failed; `fields["step"]` names the step. Nothing is held."""

    code = "checkout_unavailable"


class CheckoutFailedError(ApplicationError):
    """A stored failure replayed to a retry with the same key (keeps code, status, fields)."""

    code = "checkout_failed"
    status = 409
