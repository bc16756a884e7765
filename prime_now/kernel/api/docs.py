"""Who may read the API's schema and docs: anyone, or (API_DOCS_PUBLIC=False) staff only.

Read at each request, so the setting takes effect without a code change. The schema answers
an outsider with the API's error shape (401/403); the docs page sends a browser to sign in.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


def api_docs_public() -> bool:
    return bool(getattr(settings, "API_DOCS_PUBLIC", True))


class ApiDocsAccess(BasePermission):
    """Everyone while the docs are public; else staff signed in (session or token)."""

    message = "The API documentation is private here: sign in as staff."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return api_docs_public() or bool(user and user.is_authenticated and user.is_staff)


def staff_unless_docs_public(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """The docs page as is while public; else staff only, others sent to the admin's sign-in."""

    def docs(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not api_docs_public() and not (user.is_authenticated and user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return docs
