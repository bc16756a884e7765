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
    delivery.WindowKind.ONE_HOUR: "one hour",
    delivery.WindowKind.TWO_HOUR: "two hours",
}


@dataclass(frozen=True)
class WindowChoice:
    """A window as the picker shows it: its radio value, its words, whether it is full."""

    value: int
    label: str
    full: bool


@dataclass(frozen=True)
class WindowDay:
    label: str
    choices: list[WindowChoice]


@dataclass(frozen=True)
class WindowPicker:
    """The checkout's window picker: the soonest (preselected), the next few, day tabs."""

    soonest: WindowChoice | None
    next: list[WindowChoice]
    days: list[WindowDay]

    def day_of(self, value: object) -> str:
        """The label of the day tab holding this window (to open it), or ""."""
        for day in self.days:
            if any(str(c.value) == str(value) for c in day.choices):
                return day.label
        return ""

    def selectable(self) -> list[WindowChoice]:
        every = [self.soonest, *self.next, *(c for d in self.days for c in d.choices)]
        return [c for c in every if c is not None and not c.full]


def _choice(
    found: shopper.Promise, choice: delivery.WindowChoiceDTO, soonest: bool = False
) -> WindowChoice:
    window = choice.window
    start, end = found.local(window.start), found.local(window.end)
    price = "free" if choice.fee == 0 else f"${choice.fee}"
    when = f"{day_label(start)} {start:%H:%M}–{end:%H:%M}, {KIND_LABEL[window.kind]}"
    if soonest:
        label = f"Arrives by {end:%H:%M}, {price} ({when})"
    else:
        label = f"{when}, {price}" + (" (full)" if choice.full else "")
    return WindowChoice(window.id, label, choice.full)


def window_picker(found: shopper.Promise, subtotal: Decimal) -> WindowPicker:
    """The hub's windows for this basket, grouped by delivery's window_picker."""
    if not found.promise.hub_code:
        return WindowPicker(soonest=None, next=[], days=[])
    picker = delivery.window_picker(
        hub_code=found.promise.hub_code,
        subtotal=subtotal,
        ends_after=found.promise.earliest_delivery,
    )
    return WindowPicker(
        soonest=_choice(found, picker.soonest, soonest=True) if picker.soonest else None,
        next=[_choice(found, c) for c in picker.next],
        days=[
            WindowDay(
                label=day_label(found.local(d.choices[0].window.start)),
                choices=[_choice(found, c) for c in d.choices],
            )
            for d in picker.days
        ],
    )


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
    picker = window_picker(found, cart.subtotal)
    initial = {"address": address.address, "expected_subtotal": cart.subtotal}
    if picker.soonest:
        initial["window"] = picker.soonest.value
    form = CheckoutForm(request.POST or None, windows=picker.selectable(), initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = delivery.checkout_place(
                customer_id=shopper.customer_id(request),
                idempotency_key=str(data["idempotency_key"]),
                request=delivery.CheckoutRequest(
                    lines=tuple(
                        delivery.CheckoutLine(
                            sku=x.sku,
                            quantity=x.quantity,
                            substitution=x.substitution,
                            substitute_sku=x.substitute_sku,
                        )
                        for x in cart.lines
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
            if data["save_as"]:
                _save_address(request, data["save_as"], data["address"], address.postcode)
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
            "picker": picker,
            "open_day": picker.day_of(form["window"].value()),
            "address": address,
        },
        page="checkout",
        status=status,
    )


def _save_address(request: HttpRequest, label: str, street: str, postcode: str) -> None:
    try:
        delivery.address_save(
            customer_id=shopper.customer_id(request),
            label=label,
            address=street,
            postcode=postcode,
        )
    except ApplicationError as exc:  # the order is placed: a note, not a failure
        messages.warning(request, f"Your address was not saved: {exc.message}")
    else:
        messages.success(request, f"{label} is saved in your address book.")


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
