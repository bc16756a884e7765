"""What the storefront knows about the person browsing: address, cart owner, cached door reads.

The address lives in the session (`deliver_to`), the cart belongs to the session until sign-in
and to the user after. Reads that every page makes (departments, the promise for the address,
which products the hub stocks) are cached for a short while at the edge, keyed by their inputs.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, replace
from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from catalog import services as catalog
from delivery import services as delivery
from fulfillment import services as fulfillment
from ordering import services as ordering

from .memo import Once, peek, remembered

SESSION_ADDRESS = "deliver_to"
SESSION_CART_COUNT = "cart_count"
DEPARTMENTS_SECONDS = 60
PROMISE_SECONDS = 10
PROMISE_MEMO_SECONDS = 2  # in-process, in front of the shared cache (every page reads it)
STOCK_SECONDS = 20
PRODUCT_MEMO_SECONDS = 3  # a product page's details, in-process (hot products, not prices)
EDGE_WINDOWS = 12  # windows kept in the edge cache (earliest first)

POSTCODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,9}$")


def normalize_postcode(value: str) -> str:
    """Upper case, single spaces: 'sw1a  1aa' and 'SW1A 1AA' are one postcode."""
    return " ".join(value.upper().split())


@dataclass(frozen=True)
class DeliverTo:
    postcode: str
    address: str


def deliver_to(request: HttpRequest) -> DeliverTo | None:
    data = request.session.get(SESSION_ADDRESS)
    if not data:
        return None
    return DeliverTo(postcode=data["postcode"], address=data.get("address", ""))


def set_deliver_to(request: HttpRequest, *, postcode: str, address: str) -> None:
    request.session[SESSION_ADDRESS] = {"postcode": postcode, "address": address}


def cart_owner(request: HttpRequest) -> ordering.CartOwner:
    if request.user.is_authenticated:
        return ordering.CartOwner(user_id=request.user.pk)
    if request.session.session_key is None:
        request.session.save()  # a visitor's cart needs a session to belong to
    return ordering.CartOwner(session_key=request.session.session_key)


def remember_cart(request: HttpRequest, cart: ordering.CartDTO) -> ordering.CartDTO:
    """Keep the item count for the header, so pages need not read the cart to show it."""
    request.session[SESSION_CART_COUNT] = cart.item_count
    return cart


def cart_count(request: HttpRequest) -> int:
    return int(request.session.get(SESSION_CART_COUNT, 0))


def departments() -> tuple[catalog.DepartmentDTO, ...]:
    return remembered(
        "departments",
        5,
        lambda: cache.get_or_set("sf:departments", catalog.department_tree, DEPARTMENTS_SECONDS),
    )


def departments_ready():
    """The departments if this process has them at hand (no I/O), else memo.MISSING."""
    return peek("departments")


def product(sku: str) -> catalog.ProductDTO:
    """The product's details (not its price: the price widget reads that live), remembered
    for a moment in this process: a popular product's page does not query them each view."""
    return remembered(f"product:{sku}", PRODUCT_MEMO_SECONDS, lambda: catalog.product_get(sku=sku))


def product_once(sku: str) -> Once:
    """`product` for one page, shared by the details and availability widgets."""
    return Once(lambda: product(sku), ready=lambda: peek(f"product:{sku}"))


def department(slug: str) -> catalog.DepartmentDTO | None:
    return next((d for d in departments() if d.slug == slug), None)


@dataclass(frozen=True)
class Promise:
    """The delivery promise for an address, with the hub's time zone for showing times."""

    promise: delivery.PromiseDTO
    tz: str

    @property
    def next_window(self) -> delivery.WindowDTO | None:
        open_windows = [w for w in self.promise.windows if w.available > 0]
        return min(open_windows, key=lambda w: w.start) if open_windows else None

    @property
    def one_hour(self) -> bool:
        return any(
            w.kind == delivery.WindowKind.ONE_HOUR and w.available > 0 for w in self.promise.windows
        )

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(zoneinfo.ZoneInfo(self.tz))


def hub_tz(hub_code: str | None) -> str:
    """The hub's time zone name (times are shown as the hub's clock shows them)."""
    if not hub_code:
        return "UTC"

    def load() -> str:
        return fulfillment.hub_get(code=hub_code).timezone

    return remembered(
        f"hubtz:{hub_code}", 60, lambda: cache.get_or_set(f"sf:hubtz:{hub_code}", load, 3600)
    )


def hub_point(hub_code: str | None) -> tuple[float, float] | None:
    """Where the hub is (lat, lon), for the tracking map; None when unknown."""
    if not hub_code:
        return None

    def load() -> tuple[float, float] | None:
        try:
            hub = fulfillment.hub_get(code=hub_code)
        except fulfillment.HubNotFoundError:
            return None
        return (hub.lat, hub.lon)

    return remembered(
        f"hubpoint:{hub_code}",
        60,
        lambda: cache.get_or_set(f"sf:hubpoint:{hub_code}", load, 3600),
    )


def promise(postcode: str) -> Promise:
    """The promise for a postcode with no basket (header, home, product and listing pages):
    cached in the shared cache, and for a moment in this process (every page reads it)."""

    def load() -> Promise:
        found = delivery.promise_for(postcode=postcode)
        # Pages show the next few windows; keeping only those keeps the cached value small.
        found = replace(found, windows=tuple(found.windows[:EDGE_WINDOWS]))
        return Promise(found, hub_tz(found.hub_code))

    return remembered(
        f"promise:{postcode}",
        PROMISE_MEMO_SECONDS,
        lambda: cache.get_or_set(f"sf:promise:{postcode}", load, PROMISE_SECONDS),
    )


def promise_once(postcode: str) -> Once:
    """The promise for one page, read at most once however many widgets show it; known
    without I/O (so without the widget thread pool) while this process remembers it."""
    return Once(lambda: promise(postcode), ready=lambda: peek(f"promise:{postcode}"))


def promise_for_basket(postcode: str, skus: list[str]) -> Promise:
    """A fresh promise for a basket (checkout): never cached."""
    found = delivery.promise_for(postcode=postcode, basket_skus=skus)
    return Promise(found, hub_tz(found.hub_code))


def customer_id(request: HttpRequest) -> int:
    """The signed-in customer's id (for views behind login_required)."""
    if request.user.pk is None:
        raise PermissionDenied
    return int(request.user.pk)


def in_stock_ids(hub_code: str) -> frozenset[int]:
    ids = cache.get_or_set(
        f"sf:instock:{hub_code}",
        lambda: fulfillment.product_ids_in_stock(hub_code=hub_code),
        STOCK_SECONDS,
    )
    return frozenset(ids or ())
