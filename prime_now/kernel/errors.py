"""Errors that cross doors. The edge maps them to HTTP: one JSON shape everywhere.

{"error": {"code": "out_of_stock", "message": "...", "fields": {...}}}
"""

from typing import Any


class ApplicationError(Exception):
    """A use case could not be done, for a reason the caller can show to a person."""

    code = "application_error"
    status = 400
    default_message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ValidationError(ApplicationError):
    """The input is not acceptable (HTTP 400); `fields` name what is wrong."""

    code = "invalid"
    status = 400
    default_message = "Some fields are not valid."


class NotFoundError(ApplicationError):
    """What was asked for does not exist (HTTP 404)."""

    code = "not_found"
    status = 404
    default_message = "Not found."


class PermissionDeniedError(ApplicationError):
    """The caller may not do this (HTTP 403)."""

    code = "permission_denied"
    status = 403
    default_message = "You do not have permission to do this."


class ConflictError(ApplicationError):
    """The request does not fit the current state (HTTP 409)."""

    code = "conflict"
    status = 409
    default_message = "The request conflicts with the current state."


class UnavailableError(ApplicationError):
    """Something needed is unavailable for now; the request may be retried later (HTTP 503)."""

    code = "unavailable"
    status = 503
    default_message = "This is unavailable right now. Please try again shortly."


class TooManyRequestsError(ApplicationError):
    """Too many requests for now (HTTP 429); the answer's Retry-After says when to try again."""

    code = "throttled"
    status = 429
    default_message = "Too many requests. Please slow down."

    def __init__(self, message: str | None = None, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
