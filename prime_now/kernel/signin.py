"""Sign-in protection (django-axes) on the admin login, the storefront's sign-in and the API's
token endpoint: after AXES_FAILURE_LIMIT failed sign-ins for one username from one address,
that pair is locked out for AXES_COOLOFF_TIME (or until an operator unlocks it: admin, Axes →
Access attempts, delete the row; or `manage.py axes_reset_username <username>`).

A locked-out attempt is answered 429 with Retry-After: the project's JSON error under /api/,
a short page elsewhere.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

from .api.errors import error_body, retry_after

LOCKED_OUT = "locked_out"


def lockout_seconds() -> float:
    return float(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    minutes = max(1, round(lockout_seconds() / 60))
    return (
        f"Too many failed sign-ins: signing in as this user from here is locked for {minutes} "
        "minutes. Support can unlock it sooner."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the answer to a sign-in attempt while locked out."""
    headers = {"Retry-After": retry_after(lockout_seconds())}
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(LOCKED_OUT, lockout_message()), status=429, headers=headers)
    response = render(request, "kernel/locked_out.html", {"message": lockout_message()}, status=429)
    response["Retry-After"] = headers["Retry-After"]
    return response


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address DRF's throttles count, by DRF's own rule
    (REST_FRAMEWORK's NUM_PROXIES: X-Forwarded-For is believed only as far as our own
    proxies add it)."""
    return BaseThrottle().get_ident(request) or None  # type: ignore[arg-type]
