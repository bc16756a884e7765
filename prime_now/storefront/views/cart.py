"""The cart: a visitor's belongs to the session, a customer's to them (merged on sign-in)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from catalog import services as catalog
from ordering import services as ordering
from prime_now.kernel.errors import ApplicationError

from .. import shopper
from ..forms import AddToCartForm, QuantityForm, SubstitutionForm
from ..rendering import render_page
from .pages import safe_next


def _unavailable_here(request: HttpRequest, cart: ordering.CartDTO) -> frozenset[str]:
    """Skus in the cart the chosen address's hub cannot deliver now (empty without address)."""
    address = shopper.deliver_to(request)
    if address is None or not cart.lines:
        return frozenset()
    try:
        found = shopper.promise_for_basket(address.postcode, [line.sku for line in cart.lines])
    except ApplicationError:
        return frozenset()
    return frozenset(found.promise.unavailable_skus)


@require_GET
def cart_view(request: HttpRequest) -> HttpResponse:
    cart = shopper.remember_cart(request, ordering.cart_get(owner=shopper.cart_owner(request)))
    unavailable = _unavailable_here(request, cart)
    suggestions = catalog.products_substitutes(
        skus=[line.sku for line in cart.lines if line.available], limit=SUGGESTIONS
    )
    lines = [
        {
            "line": line,
            "deliverable": line.available and line.sku not in unavailable,
            "form": QuantityForm(initial={"quantity": line.quantity}, prefix=line.sku),
            "substitution": _substitution_form(line, suggestions.get(line.sku, ())),
        }
        for line in cart.lines
    ]
    return render_page(
        request,
        "storefront/cart.html",
        {"cart": cart, "lines": lines, "blocked": any(not x["deliverable"] for x in lines)},
        page="cart",
    )


SUGGESTIONS = 3


def _substitution_form(
    line: ordering.CartLineDTO, suggestions: tuple[catalog.ProductDTO, ...], data=None
) -> SubstitutionForm:
    if line.substitution == ordering.SubstitutionChoice.SPECIFIC:
        current = f"sku:{line.substitute_sku}"
        if line.substitute_sku not in {p.sku for p in suggestions}:
            chosen = catalog.products_by_skus(skus=[line.substitute_sku]).get(line.substitute_sku)
            suggestions = (chosen, *suggestions) if chosen else suggestions
    else:
        current = line.substitution.value
    return SubstitutionForm(
        data, initial={"choice": current}, suggestions=suggestions, prefix=f"sub-{line.sku}"
    )


@require_POST
def cart_substitution(request: HttpRequest, sku: str) -> HttpResponse:
    owner = shopper.cart_owner(request)
    line = next((x for x in ordering.cart_get(owner=owner).lines if x.sku == sku), None)
    if line is None:
        messages.error(request, "That item is no longer in your cart.")
        return redirect("storefront:cart")
    suggestions = catalog.product_substitutes(sku=sku, limit=SUGGESTIONS)
    form = _substitution_form(line, suggestions, request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the substitute options.")
        return redirect("storefront:cart")
    substitution, substitute_sku = form.substitution()
    try:
        ordering.cart_set_substitution(
            owner=owner, sku=sku, substitution=substitution, substitute_sku=substitute_sku
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Substitute for {line.name} saved.")
    return redirect("storefront:cart")


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    back = safe_next(request, reverse("storefront:cart"))
    if not form.is_valid():
        messages.error(request, "Choose a quantity between 1 and 20.")
        return redirect(back)
    sku, quantity = form.cleaned_data["sku"], form.cleaned_data["quantity"]
    try:
        cart = ordering.cart_add(owner=shopper.cart_owner(request), sku=sku, quantity=quantity)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    shopper.remember_cart(request, cart)
    name = next((line.name for line in cart.lines if line.sku == sku), sku)
    messages.success(request, f"Added {quantity} × {name} to your cart.")
    return redirect(back)


@require_POST
def cart_update(request: HttpRequest, sku: str) -> HttpResponse:
    form = QuantityForm(request.POST, prefix=sku)
    if not form.is_valid():
        messages.error(request, "Choose a quantity between 0 and 20.")
        return redirect("storefront:cart")
    try:
        cart = ordering.cart_set_quantity(
            owner=shopper.cart_owner(request), sku=sku, quantity=form.cleaned_data["quantity"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        shopper.remember_cart(request, cart)
        messages.success(request, "Your cart was updated.")
    return redirect("storefront:cart")


@require_POST
def cart_remove(request: HttpRequest, sku: str) -> HttpResponse:
    try:
        cart = ordering.cart_remove(owner=shopper.cart_owner(request), sku=sku)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        shopper.remember_cart(request, cart)
        messages.success(request, "The item was removed from your cart.")
    return redirect("storefront:cart")
