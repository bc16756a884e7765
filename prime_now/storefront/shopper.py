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
from django.http import HttpRequest

from catalog import services as catalog
from delivery import services as delivery
from fulfillment import services as fulfillment
from ordering import services as ordering

from .memo import remembered

SESSION_ADDRESS = "deliver_to"
SESSION_CART_COUNT = "cart_count"
DEPARTMENTS_SECONDS = 60
PROMISE_SECONDS = 10
STOCK_SECONDS = 20
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
        return any(w.kind == "one_hour" and w.available > 0 for w in self.promise.windows)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(zoneinfo.ZoneInfo(self.tz))


def hub_tz(hub_code: str | None) -> str:
    """The hub's time zone name (times are shown as the hub's clock shows them)."""
    if not hub_code:
        return "UTC"

    def load() -> str:
        return fulfillment.hub_get(code=hub_code).timezone

    return cache.get_or_set(f"sf:hubtz:{hub_code}", load, 3600)


def promise(postcode: str) -> Promise:
    """The promise for a postcode with no basket (header, home, windows widget): cached."""

    def load() -> Promise:
        found = delivery.promise_for(postcode=postcode)
        # Pages show the next few windows; keeping only those keeps the cached value small.
        found = replace(found, windows=tuple(found.windows[:EDGE_WINDOWS]))
        return Promise(found, hub_tz(found.hub_code))

    return cache.get_or_set(f"sf:promise:{postcode}", load, PROMISE_SECONDS)


def promise_for_basket(postcode: str, skus: list[str]) -> Promise:
    """A fresh promise for a basket (checkout): never cached."""
    found = delivery.promise_for(postcode=postcode, basket_skus=skus)
    return Promise(found, hub_tz(found.hub_code))


def in_stock_ids(hub_code: str) -> frozenset[int]:
    return cache.get_or_set(
        f"sf:instock:{hub_code}",
        lambda: fulfillment.product_ids_in_stock(hub_code=hub_code),
        STOCK_SECONDS,
    )
