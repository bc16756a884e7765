"""The customer's address book: add, forget, make default, and deliver to a saved address."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from delivery import services as delivery
from prime_now.kernel.errors import ApplicationError

from .. import shopper
from ..forms import Form, normalize_postcode
from ..rendering import render_page


class AddressForm(Form):
    label = forms.CharField(label="Name it", max_length=40, help_text='e.g. "Home" or "Work"')
    address = forms.CharField(
        label="Street address",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    make_default = forms.BooleanField(label="Make it my default address", required=False)

    def clean_postcode(self) -> str:
        return normalize_postcode(self.cleaned_data["postcode"])


@login_required
@require_http_methods(["GET", "POST"])
def address_book(request: HttpRequest) -> HttpResponse:
    customer_id = shopper.customer_id(request)
    form = AddressForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = delivery.address_save(customer_id=customer_id, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, f"{saved.label} is saved in your address book.")
                return redirect("storefront:addresses")
        else:
            status = 422
    return render_page(
        request,
        "storefront/addresses.html",
        {"addresses": delivery.addresses_for(customer_id=customer_id), "form": form},
        page="addresses",
        status=status,
    )


def _saved(request: HttpRequest, address_id: int) -> delivery.SavedAddressDTO:
    try:
        return delivery.address_get(customer_id=shopper.customer_id(request), address_id=address_id)
    except delivery.AddressNotFoundError:
        raise Http404("No such address")


@login_required
@require_POST
def address_use(request: HttpRequest, address_id: int) -> HttpResponse:
    saved = _saved(request, address_id)
    shopper.set_deliver_to(request, postcode=saved.postcode, address=saved.address)
    messages.success(request, f"Delivering to {saved.label}: {saved.address}, {saved.postcode}.")
    return redirect(
        "storefront:checkout" if request.POST.get("next") == "checkout" else "storefront:home"
    )


@login_required
@require_POST
def address_make_default(request: HttpRequest, address_id: int) -> HttpResponse:
    saved = _saved(request, address_id)
    delivery.address_save(
        customer_id=shopper.customer_id(request),
        address_id=saved.id,
        label=saved.label,
        address=saved.address,
        postcode=saved.postcode,
        make_default=True,
    )
    messages.success(request, f"{saved.label} is now your default address.")
    return redirect("storefront:addresses")


@login_required
@require_POST
def address_forget(request: HttpRequest, address_id: int) -> HttpResponse:
    saved = _saved(request, address_id)
    delivery.address_delete(customer_id=shopper.customer_id(request), address_id=saved.id)
    messages.success(request, f"{saved.label} is removed from your address book.")
    return redirect("storefront:addresses")
