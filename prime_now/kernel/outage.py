"""Outages tell the truth: a lost database or broker answers 503 with Retry-After, never 500.

The API's exception handler (kernel.api.errors) and, for every other view, `OutageMiddleware`
turn these errors into 503 in the one error shape. What breaks before or after the view (a
middleware loading the session or the user, saving the session) reaches the project's
handler500 instead, which answers the same 503 when the error is an outage
(storefront.views.errors). The transaction the request was in has rolled back, so nothing
half-written remains; the client retries (with the same Idempotency-Key for a checkout) once
Retry-After has passed.
"""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from kombu.exceptions import KombuError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE_ERRORS = (
    OperationalError,
    InterfaceError,
    KombuError,
    RedisConnectionError,
    RedisTimeoutError,
)
RETRY_AFTER_SECONDS = 5
OUTAGE_CODE = "service_unavailable"
OUTAGE_MESSAGE = "We cannot take this request right now. Nothing was changed; please try again."


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def outage_response(request: HttpRequest) -> HttpResponse:
    """503 in the error shape (JSON for the API, a short page elsewhere), with Retry-After."""
    body = {"error": {"code": OUTAGE_CODE, "message": OUTAGE_MESSAGE, "fields": {}}}
    response: HttpResponse
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        response = JsonResponse(body, status=503)
    else:
        # No request context: its processors may need the very database that is gone.
        page = loader.get_template("503.html").render({"message": OUTAGE_MESSAGE})
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class OutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_outage(exception):
            return None
        logger.error("outage: %s on %s", type(exception).__name__, request.path, exc_info=exception)
        return outage_response(request)
