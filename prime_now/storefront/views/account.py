"""Sign up, sign in, sign out. Signing in takes the visitor's cart along (ordering.cart_merge)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from delivery import services as delivery
from ordering import services as ordering
from prime_now.kernel.api.errors import retry_after
from prime_now.kernel.api.throttles import form_post_wait
from prime_now.kernel.errors import ApplicationError
from prime_now.kernel.levers import lever_on
from prime_now.kernel.roles import Role, role_grant

from .. import levers, shopper
from ..forms import SignInForm, SignUpForm
from ..rendering import render_page
from .pages import safe_next


def _sign_in(request: HttpRequest, user) -> None:
    """Log in and move the visitor's cart to the user (the session key changes at login)."""
    visitor_key = request.session.session_key
    address = request.session.get(shopper.SESSION_ADDRESS)
    # A user just signed up was not authenticated by a backend: name the password one.
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if address:
        request.session[shopper.SESSION_ADDRESS] = address
    elif (saved := delivery.address_default(customer_id=user.pk)) is not None:
        shopper.set_deliver_to(request, postcode=saved.postcode, address=saved.address)
    try:
        if visitor_key:
            cart = ordering.cart_merge(session_key=visitor_key, user_id=user.pk)
        else:
            cart = ordering.cart_get(owner=ordering.CartOwner(user_id=user.pk))
    except ApplicationError as exc:
        messages.warning(request, f"We could not bring over your cart: {exc.message}")
    else:
        shopper.remember_cart(request, cart)
        for notice in cart.notices:  # e.g. a quantity capped when the two carts were merged
            messages.info(request, notice)


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        _sign_in(self.request, form.get_user())
        return redirect(self.get_success_url())


class SignOutView(auth_views.LogoutView):
    pass


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("storefront:home")
    if not lever_on(levers.SIGN_UPS):
        response = render_page(
            request,
            "registration/signup.html",
            {"paused": True},
            page="signup",
            status=503 if request.method == "POST" else 200,
        )
        response["Retry-After"] = "600"
        return response
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Only an account about to be made counts: a form sent back with errors made none.
        if (wait := form_post_wait(request, "sign-ups")) is not None:
            response = render_page(
                request, "registration/signup.html", {"throttled": True}, page="signup", status=429
            )
            response["Retry-After"] = retry_after(wait)
            return response
        with transaction.atomic():
            user = form.save()
            role_grant(user_id=user.pk, role=Role.CUSTOMER)
        _sign_in(request, user)
        messages.success(request, f"Welcome to Prime Now, {user.get_username()}!")
        return redirect(safe_next(request, "/"))
    return render_page(
        request,
        "registration/signup.html",
        {"form": form, "next": safe_next(request, "")},
        page="signup",
        status=422 if form.is_bound and form.errors else 200,
    )
