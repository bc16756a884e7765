"""The customer's in-app notifications (newest first) and their email preferences."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from notifications import services as notifications

from .. import shopper
from ..forms import Form
from ..rendering import render_page

PAGE = 30


class PreferenceForm(Form):
    email = forms.BooleanField(label="Email me about my orders", required=False)
    email_muted = forms.MultipleChoiceField(
        label="But not about",
        choices=notifications.NotificationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user_id = shopper.customer_id(request)
    found = notifications.notifications_for(user_id=user_id, limit=PAGE)
    preference = notifications.preferences_get(user_id=user_id)
    form = PreferenceForm(
        initial={
            "email": preference.email,
            "email_muted": [k.value for k in preference.email_muted],
        }
    )
    return render_page(
        request,
        "storefront/notifications.html",
        {
            "notifications": found,
            "unread": sum(not n.read for n in found),
            "form": form,
        },
        page="notifications",
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    notifications.notifications_mark_read(user_id=shopper.customer_id(request))
    return redirect("storefront:notifications")


@login_required
@require_POST
def notification_preferences(request: HttpRequest) -> HttpResponse:
    form = PreferenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Those preferences are not valid.")
    else:
        notifications.preferences_set(
            user_id=shopper.customer_id(request),
            email=form.cleaned_data["email"],
            email_muted=[
                notifications.NotificationKind(k) for k in form.cleaned_data["email_muted"]
            ],
        )
        messages.success(request, "Your notification preferences are saved.")
    return redirect("storefront:notifications")
