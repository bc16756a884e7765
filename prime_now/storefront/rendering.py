"""Rendering a storefront page: the page's widgets plus the header's, and the degraded header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import shopper
from .assembly import Assembly, Widget, assemble
from .memo import Once

NEXT_WINDOW = "next_window"


def header_widgets(request: HttpRequest, promise: Once | None = None) -> list[Widget]:
    """The header shows the next delivery window for the chosen address (a widget too).
    `promise`: the page's `shopper.promise_once`, shared with its own widgets (read once)."""
    address = shopper.deliver_to(request)
    if address is None:
        return []
    load = promise or shopper.promise_once(address.postcode)
    return [Widget(NEXT_WINDOW, load, budget_ms=250, ready=load.peek)]


def assemble_page(
    request: HttpRequest,
    page: str,
    widgets: list[Widget],
    *,
    promise: Once | None = None,
) -> Assembly:
    return assemble(page, [*widgets, *header_widgets(request, promise)])


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    assembly: Assembly | None = None,
    page: str = "",
    status: int = 200,
) -> HttpResponse:
    if assembly is None:
        assembly = assemble_page(request, page or template, [])
    address = shopper.deliver_to(request)
    header = assembly.results.get(NEXT_WINDOW)
    full = {
        "deliver_to": address,
        "header_promise": header.value if header and header.ok else None,
        "header_degraded": header is not None and header.state in {"failed", "timeout"},
        "cart_count": shopper.cart_count(request),
        "w": assembly.results,
        **(context or {}),
    }
    response = render(request, template, full, status=status)
    return assembly.stamp(response)
