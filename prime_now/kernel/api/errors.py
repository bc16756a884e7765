"""One JSON error shape for every API error: {"error": {"code", "message", "fields"}}."""

import logging
import math
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from prime_now.kernel.errors import ApplicationError, TooManyRequestsError
from prime_now.kernel.outage import OUTAGE_CODE, OUTAGE_MESSAGE, RETRY_AFTER_SECONDS, is_outage

logger = logging.getLogger(__name__)

DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _validation_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    detail = exc.detail
    if isinstance(detail, dict):
        fields = _flatten(detail)
        non_field = fields.pop("non_field_errors", None)
        message = non_field[0] if non_field else "Some fields are not valid."
        return error_body("invalid", message, fields)
    messages = _flatten(detail if isinstance(detail, list) else [detail])
    return error_body("invalid", "; ".join(messages) or "Invalid request.")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        set_rollback()
        headers = None
        if exc.status == 503:
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        elif isinstance(exc, TooManyRequestsError):
            headers = {"Retry-After": retry_after(exc.retry_after)}
        return Response({"error": exc.as_dict()}, status=exc.status, headers=headers)
    if is_outage(exc):
        logger.error("API outage: %s", type(exc).__name__, exc_info=exc)
        _rollback_if_possible()
        return Response(
            error_body(OUTAGE_CODE, OUTAGE_MESSAGE),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        return Response(_validation_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        code = next((c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), exc.default_code)
        headers = {}
        # Set by DRF on an authentication error (APIView.handle_exception) and on Throttled.
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = retry_after(wait)
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return Response(error_body(code, str(message)), status=exc.status_code, headers=headers)
    if settings.DEBUG:
        return None
    logger.exception("Unhandled API error", exc_info=exc)
    set_rollback()
    return Response(
        error_body("server_error", "Something went wrong on our side. Please try again."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def retry_after(seconds: float) -> str:
    """Retry-After's whole seconds, rounded up: a client waiting that long is let in."""
    return str(max(1, math.ceil(seconds)))


def _rollback_if_possible() -> None:
    """Mark the request's transaction (if any) for rollback; with the database gone there
    may be nothing left to mark."""
    try:
        set_rollback()
    except Exception:
        logger.warning("could not mark the transaction for rollback", exc_info=True)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("server_error", "Something went wrong on our side. Please try again."),
        status=500,
    )
