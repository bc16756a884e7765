"""Browsing: home with the address picker, department listings, search, product page."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from catalog import services as catalog
from fulfillment import services as fulfillment
from ordering import services as ordering
from prime_now.kernel.errors import ValidationError
from prime_now.kernel.levers import lever_on

from .. import levers, shopper
from ..assembly import Assembly, Widget, assemble
from ..forms import AddToCartForm, DeliverToForm, ProductFilterForm
from ..memo import Once, peek, remembered
from ..rendering import NEXT_WINDOW, assemble_page, render_page

PAGE_SIZE = 24
logger = logging.getLogger(__name__)


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def _departments_widget() -> Widget:
    return Widget(
        "departments", shopper.departments, budget_ms=250, ready=shopper.departments_ready
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    address = shopper.deliver_to(request)
    form = DeliverToForm(
        initial={"postcode": address.postcode, "address": address.address} if address else None
    )
    assembly = assemble_page(request, "home", [_departments_widget()])
    return render_page(
        request, "storefront/home.html", {"form": form}, assembly=assembly, page="home"
    )


@require_POST
def deliver_to(request: HttpRequest) -> HttpResponse:
    """Set the delivery address: only an address a hub serves is kept."""
    form = DeliverToForm(request.POST)
    if form.is_valid():
        postcode = form.cleaned_data["postcode"]
        served, closed = True, False
        try:
            fulfillment.hub_for_location(postcode=postcode)
        except fulfillment.HubClosedError:
            closed = True
        except fulfillment.AddressNotServedError:
            served = False
        except Exception:
            logger.exception("deliver-to: hub lookup failed")
            form.add_error(None, "We can't check delivery right now. Please try again shortly.")
            served = False
        if served:
            shopper.set_deliver_to(request, postcode=postcode, address=form.cleaned_data["address"])
            found = shopper.promise(postcode)
            if closed:
                messages.info(request, f"Our hub for {postcode} is closed right now.")
            elif found.one_hour:
                messages.success(request, f"One-hour delivery is available to {postcode}.")
            else:
                messages.info(request, f"We deliver to {postcode}. {found.promise.message}")
            return redirect(safe_next(request, reverse("storefront:home")))
        if not form.non_field_errors():
            form.add_error(
                "postcode", f"Sorry, we don't deliver to {postcode} yet. Try another postcode."
            )
    assembly = assemble_page(request, "home", [_departments_widget()])
    return render_page(
        request, "storefront/home.html", {"form": form}, assembly=assembly, status=422
    )


@dataclass(frozen=True)
class Tile:
    """A product in a listing, with whether the shopper's hub can deliver it."""

    product: catalog.ProductDTO
    deliverable: bool | None  # None: no address chosen yet
    url: str


@functools.cache
def _product_prefix() -> str:
    return reverse("storefront:product", args=["-"])[:-2]


def product_url(sku: str) -> str:
    # reverse() for each tile costs more than the rest of the tile; the prefix never changes.
    return f"{_product_prefix()}{quote(sku)}/"


BADGES = "availability_badges"


def _tiles(assembly: Assembly, items, hub_code: str | None) -> list[Tile]:
    """The listing's tiles, with availability badges for the shopper's hub: a widget of its
    own (lever `storefront-availability-badges`); when it fails, overruns or is switched off
    the tiles render without badges."""
    if hub_code is None or not items:
        return [Tile(p, None, product_url(p.sku)) for p in items]
    ids = [p.id for p in items]
    badges = assemble(
        assembly.page,
        [
            Widget(
                BADGES,
                lambda: fulfillment.stock_available(hub_code=hub_code, product_ids=ids),
                budget_ms=250,
            )
        ],
    )[BADGES]
    assembly.results[BADGES] = badges
    if not badges.ok:
        return [Tile(p, None, product_url(p.sku)) for p in items]
    return [Tile(p, badges.value.get(p.id, 0) > 0, product_url(p.sku)) for p in items]


def _deliverable_ids(request: HttpRequest, hub_code: str) -> frozenset[int] | None:
    """The 'deliverable only' filter's products (None: the filter is off for now)."""
    if not lever_on(levers.AVAILABILITY_BADGES):
        return None
    try:
        return shopper.in_stock_ids(hub_code)
    except Exception:
        logger.exception("listing: the in-stock filter failed")
        messages.warning(request, "We can't filter by what's deliverable right now.")
        return None


def _hub_code(assembly) -> str | None:
    """The hub serving the chosen address, from the header's promise (already fetched)."""
    header = assembly.results.get(NEXT_WINDOW)
    if header is None or not header.ok:
        return None
    return header.value.promise.hub_code


def _product_list(
    request: HttpRequest, *, template: str, department: catalog.DepartmentDTO | None
) -> HttpResponse:
    form = ProductFilterForm(
        request.GET or None, categories=department.categories if department else ()
    )
    page = None
    tiles: list[Tile] = []
    assembly = assemble_page(request, "listing", [])
    hub_code = _hub_code(assembly)
    query = ""
    if form.is_bound and not form.is_valid():
        pass  # the form shows what to fix; nothing is searched
    else:
        data = form.cleaned_data if form.is_bound else {}
        query = data.get("q", "")
        product_ids = None
        if data.get("deliverable") and hub_code:
            product_ids = _deliverable_ids(request, hub_code)
        try:
            page = catalog.product_search(
                query=query,
                department=department.slug if department else None,
                category=data.get("category") or None,
                brand=data.get("brand") or None,
                price_min=data.get("price_min"),
                price_max=data.get("price_max"),
                product_ids=product_ids,
                ordering=data.get("ordering") or ("relevance" if query else "name"),
                page_size=PAGE_SIZE,
                cursor=data.get("cursor") or None,
            )
        except ValidationError as exc:
            messages.error(request, exc.message)
        else:
            tiles = _tiles(assembly, page.items, hub_code)
    params = request.GET.copy()
    params.pop("cursor", None)
    return render_page(
        request,
        template,
        {
            "form": form,
            "department": department,
            "query": query,
            "page": page,
            "tiles": tiles,
            "params": params.urlencode(),
            "add_form": AddToCartForm(),
        },
        assembly=assembly,
    )


@require_GET
def department_listing(request: HttpRequest, slug: str) -> HttpResponse:
    found = shopper.department(slug)
    if found is None:
        raise Http404("No such department")
    return _product_list(request, template="storefront/listing.html", department=found)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    return _product_list(request, template="storefront/search.html", department=None)


@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    """Search-as-you-type: a list of links (an HTML fragment fetched by site.js)."""
    prefix = request.GET.get("q", "").strip()[:60]
    wanted = len(prefix) >= 2 and lever_on(levers.SEARCH_SUGGESTIONS)
    items = catalog.product_suggest(prefix=prefix, limit=8) if wanted else ()
    return render(request, "storefront/_suggestions.html", {"items": items, "prefix": prefix})


# --- Product page: five widgets -----------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    address_set: bool
    deliverable: bool = False
    message: str = ""
    earliest: object = None
    tz: str = "UTC"


def _availability(promise: Once | None, details: Once, sku: str) -> Availability:
    """Whether the shopper's hub can deliver this product: the address's promise (shared
    with the windows and the header) and the product's stock at that hub, as on listings."""
    if promise is None:
        return Availability(address_set=False)
    found = promise()
    promise_ = found.promise
    deliverable = bool(
        promise_.available and promise_.hub_code and _in_stock(promise_.hub_code, details, sku)
    )
    return Availability(
        address_set=True,
        deliverable=deliverable,
        message=promise_.message,
        earliest=found.local(promise_.earliest_delivery) if promise_.earliest_delivery else None,
        tz=found.tz,
    )


def _in_stock(hub_code: str, details: Once, sku: str) -> bool:
    try:
        product = details()  # the details widget's read, shared
    except catalog.ProductNotFoundError:
        return False
    except Exception:
        # That door failed (its widget degrades); availability need not degrade with it.
        product = catalog.products_by_skus(skus=[sku]).get(sku)
    if product is None or not product.active:
        return False
    return fulfillment.stock_available(hub_code=hub_code, product_ids=[product.id])[product.id] > 0


def _windows(promise: Once | None) -> shopper.Promise | None:
    return promise() if promise else None


def _no_address() -> None:
    return None


ALSO_BOUGHT_MEMO_SECONDS = 10


def _also_bought(sku: str) -> list[catalog.ProductDTO]:
    return remembered(f"also:{sku}", ALSO_BOUGHT_MEMO_SECONDS, lambda: _also_bought_load(sku))


def _also_bought_ready(sku: str):
    return peek(f"also:{sku}")


def _also_bought_load(sku: str) -> list[catalog.ProductDTO]:
    skus = ordering.customers_also_bought(sku=sku, limit=6)
    if not skus:
        return []
    found = catalog.products_by_skus(skus=skus)
    return [found[s] for s in skus if s in found and found[s].active]


def _price(sku: str) -> Decimal | None:
    return catalog.prices_for_skus(skus=[sku]).get(sku)


@require_GET
def product(request: HttpRequest, sku: str) -> HttpResponse:
    # Widgets run on other threads: they get plain values, never the request.
    address = shopper.deliver_to(request)
    promise = shopper.promise_once(address.postcode) if address else None
    details = shopper.product_once(sku)
    widgets = [
        Widget(
            "details",
            details,
            budget_ms=250,
            passthrough=(catalog.ProductNotFoundError,),
            ready=details.peek,
        ),
        Widget("price", lambda: _price(sku), budget_ms=200),
        Widget(
            "availability",
            lambda: _availability(promise, details, sku),
            budget_ms=300,
            ready=None if promise else (lambda: Availability(address_set=False)),
        ),
        Widget(
            "windows",
            lambda: _windows(promise),
            budget_ms=250,
            ready=promise.peek if promise else _no_address,
        ),
        Widget(
            "also_bought",
            lambda: _also_bought(sku),
            budget_ms=200,
            ready=lambda: _also_bought_ready(sku),
        ),
    ]
    try:
        assembly = assemble_page(request, "product", widgets, promise=promise)
    except catalog.ProductNotFoundError:
        raise Http404("No such product")
    details_result = assembly["details"]
    if details_result.ok and not details_result.value.active:
        raise Http404("Product no longer sold")
    return render_page(
        request,
        "storefront/product.html",
        {"sku": sku, "add_form": AddToCartForm(initial={"sku": sku, "quantity": 1})},
        assembly=assembly,
    )


PICTURE_MAX_AGE = 24 * 3600


@require_GET
def product_picture(request: HttpRequest, sku: str, size: str) -> HttpResponse:
    """A product's picture (drawn on first request and kept in storage), or a redirect to its
    own `image_url`."""
    try:
        picture = catalog.product_picture(sku=sku, size=size)
    except catalog.ProductNotFoundError:
        raise Http404("No such picture")
    if picture.url:
        return redirect(picture.url)
    response = HttpResponse(picture.content, content_type=picture.content_type)
    response["Cache-Control"] = f"public, max-age={PICTURE_MAX_AGE}"
    return response
