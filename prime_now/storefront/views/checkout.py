"""Checkout: address, a one-hour or two-hour window, tip and card; then the confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from delivery import services as delivery
from ordering import services as ordering
from prime_now.kernel.errors import ApplicationError

from .. import shopper
from ..forms import CheckoutForm
from ..rendering import render_page
from ..templatetags.storefront import day_label

KIND_LABEL = {
    delivery.WindowKind.ONE_HOUR: "Within one hour",
    delivery.WindowKind.TWO_HOUR: "Two-hour window",
}


@dataclass(frozen=True)
class WindowChoice:
    value: int
    label: str
    window: delivery.WindowDTO
    fee: Decimal


def window_choices(found: shopper.Promise, subtotal: Decimal) -> list[WindowChoice]:
    choices = []
    for window in sorted(found.promise.windows, key=lambda w: (w.start, w.kind)):
        if window.available <= 0:
            continue
        free = window.free_above is not None and subtotal >= window.free_above
        fee = Decimal("0.00") if free else window.fee
        start, end = found.local(window.start), found.local(window.end)
        day = day_label(start)
        price = "free" if fee == 0 else f"${fee}"
        label = (
            f"{KIND_LABEL.get(window.kind, window.kind)}: {day}, "
            f"{start:%H:%M}–{end:%H:%M} ({price})"
        )
        choices.append(WindowChoice(window.id, label, window, fee))
    return choices


def _decline_message(exc: ApplicationError) -> str:
    return (
        f"Your card was declined ({exc.message}) and you have not been charged. "
        "Your cart is saved: check the card number or use another card."
    )


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    address = shopper.deliver_to(request)
    if address is None:
        messages.info(request, "Tell us where to deliver first.")
        return redirect("storefront:home")
    owner = shopper.cart_owner(request)
    cart = shopper.remember_cart(request, ordering.cart_get(owner=owner))
    if not cart.lines:
        messages.info(request, "Your cart is empty.")
        return redirect("storefront:cart")
    found = shopper.promise_for_basket(address.postcode, [line.sku for line in cart.lines])
    choices = window_choices(found, cart.subtotal)
    initial = {"address": address.address, "expected_subtotal": cart.subtotal}
    if choices:
        initial["window"] = choices[0].value
    form = CheckoutForm(request.POST or None, windows=choices, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = delivery.checkout_place(
                customer_id=shopper.customer_id(request),
                idempotency_key=str(data["idempotency_key"]),
                request=delivery.CheckoutRequest(
                    lines=tuple(
                        delivery.CheckoutLine(sku=x.sku, quantity=x.quantity) for x in cart.lines
                    ),
                    address=data["address"],
                    postcode=address.postcode,
                    window_id=data["window"],
                    tip=data["tip"],
                    payment_token=data["card"],
                    expected_subtotal=data["expected_subtotal"],
                ),
            )
        except ApplicationError as exc:
            status = exc.status
            if isinstance(exc, ordering.PaymentDeclinedError):
                form.add_error("card", _decline_message(exc))
            else:
                form.add_error(None, exc.message)
            # A fresh key: the corrected form is a new attempt, not a replay of this one.
            form.data = fresh = request.POST.copy()
            fresh["idempotency_key"] = str(CheckoutForm().initial["idempotency_key"])
            if isinstance(exc, delivery.PriceChangedError):
                fresh["expected_subtotal"] = str(cart.subtotal)
        else:
            ordering.cart_clear(owner=owner)
            shopper.set_deliver_to(request, postcode=address.postcode, address=data["address"])
            request.session[shopper.SESSION_CART_COUNT] = 0
            return redirect("storefront:confirmation", number=result.order_number)
    elif request.method == "POST":
        status = 422
    return render_page(
        request,
        "storefront/checkout.html",
        {
            "form": form,
            "cart": cart,
            "promise": found,
            "one_hour": [c for c in choices if c.window.kind == delivery.WindowKind.ONE_HOUR],
            "two_hour": [c for c in choices if c.window.kind == delivery.WindowKind.TWO_HOUR],
            "address": address,
        },
        page="checkout",
        status=status,
    )


@login_required
@require_GET
def confirmation(request: HttpRequest, number: str) -> HttpResponse:
    try:
        order = ordering.order_get(number=number, customer_id=shopper.customer_id(request))
    except ordering.OrderNotFoundError:
        raise Http404("No such order")
    return render_page(
        request,
        "storefront/confirmation.html",
        {"order": order, "tz": shopper.hub_tz(order.delivery.hub_code)},
        page="confirmation",
    )
