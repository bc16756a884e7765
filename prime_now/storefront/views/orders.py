"""Order history, the tracking page (it refreshes itself) and cancelling an order."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from delivery import services as delivery
from ordering import services as ordering
from prime_now.kernel.errors import ApplicationError

from .. import shopper
from ..rendering import render_page
from ..tracking_map import tracking_map

Status = ordering.OrderStatus
OFF_TRACK = {Status.CANCELLED, Status.DELIVERY_FAILED, Status.REFUNDED}
FINAL = {Status.DELIVERED, *OFF_TRACK}
REFRESH_SECONDS = 5

STEPS = [
    (Status.PLACED, "Order placed"),
    (Status.PICKING, "Being picked"),
    (Status.PACKED, "Packed"),
    (Status.OUT_FOR_DELIVERY, "On its way"),
    (Status.DELIVERED, "Delivered"),
]
STEP_INDEX = {status: i for i, (status, _) in enumerate(STEPS)}
STEP_LABEL = dict(STEPS)


def status_label(status: ordering.OrderStatus) -> str:
    """The customer's words for a status: the tracking steps' own, else the status's label."""
    return STEP_LABEL.get(status) or Status(status).label


@login_required
@require_GET
def order_history(request: HttpRequest) -> HttpResponse:
    orders = ordering.orders_for_customer(customer_id=shopper.customer_id(request), limit=20)
    rows = [
        {
            "order": o,
            "label": status_label(o.status),
            "cancellable": o.cancellable,
            "tz": shopper.hub_tz(o.delivery.hub_code),
        }
        for o in orders
    ]
    return render_page(request, "storefront/orders.html", {"rows": rows}, page="orders")


def _point(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    return (lat, lon) if lat is not None and lon is not None else None


def _tracking_context(request: HttpRequest, number: str) -> dict:
    customer_id = shopper.customer_id(request)
    try:
        tracking = delivery.tracking_for(order_number=number, customer_id=customer_id)
        order = ordering.order_get(number=number, customer_id=customer_id)
    except ordering.OrderNotFoundError:
        raise Http404("No such order")
    current = STEP_INDEX.get(tracking.status)
    seen = {entry.status: entry.at for entry in tracking.timeline}
    steps = [
        {
            "status": status,
            "label": label,
            "done": current is not None and i <= current,
            "current": i == current,
            "at": seen.get(status),
        }
        for i, (status, label) in enumerate(STEPS)
    ]
    final = tracking.status in FINAL
    drawn = None
    if tracking.status not in OFF_TRACK:
        drawn = tracking_map(
            hub=shopper.hub_point(order.delivery.hub_code),
            home=_point(order.delivery.lat, order.delivery.lon),
            courier=_point(tracking.courier_lat, tracking.courier_lon),
            courier_name=tracking.courier_name,
        )
    return {
        "map": drawn,
        "tracking": tracking,
        "order": order,
        "tz": shopper.hub_tz(order.delivery.hub_code),
        "cancellable": order.cancellable,
        "steps": steps,
        "label": status_label(tracking.status),
        "final": final,
        "off_track": tracking.status in OFF_TRACK,
        "courier_moving": tracking.status == Status.OUT_FOR_DELIVERY
        and tracking.courier_lat is not None,
        "refresh_seconds": None if final else REFRESH_SECONDS,
        "substitutes": [line for line in order.lines if line.substitute_quantity],
        "problem_open": final and ordering.problem_window_open(number=order.number),
        "problems": {p.sku: p for p in ordering.problems_for_order(number=order.number)}
        if final
        else {},
        "problem_kinds": ordering.ProblemKind.choices,
        "has_proof": tracking.status == Status.DELIVERED and _has_proof(request, order.number),
        "can_answer": tracking.status in (Status.PICKING, Status.PACKED),
    }


def _has_proof(request: HttpRequest, number: str) -> bool:
    try:
        delivery.proof_file(
            order_number=number, viewer_id=shopper.customer_id(request), staff=False
        )
    except delivery.ProofNotFoundError:
        return False
    return True


@login_required
@require_GET
def order_tracking(request: HttpRequest, number: str) -> HttpResponse:
    return render_page(
        request,
        "storefront/tracking.html",
        _tracking_context(request, number),
        page="tracking",
    )


@login_required
@require_GET
def order_tracking_status(request: HttpRequest, number: str) -> HttpResponse:
    """The status panel alone: what site.js fetches every few seconds to refresh the page."""
    response = render(
        request, "storefront/_tracking_status.html", _tracking_context(request, number)
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    customer_id = shopper.customer_id(request)
    try:
        ordering.order_cancel(
            number=number,
            reason="Cancelled by the customer",
            actor_id=customer_id,
            customer_id=customer_id,
        )
    except ordering.OrderNotFoundError:
        raise Http404("No such order")
    except ApplicationError as exc:
        messages.error(request, f"This order can no longer be cancelled: {exc.message}")
    else:
        messages.success(request, f"Order {number} is cancelled; you will not be charged.")
    if request.POST.get("back") == "history":
        return redirect("storefront:orders")
    return redirect("storefront:order", number=number)


@login_required
@require_POST
def order_substitute(request: HttpRequest, number: str, sku: str) -> HttpResponse:
    """Accept or reject the substitute picked for one line (until the courier leaves)."""
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        messages.error(request, "Choose to accept or reject the substitute.")
        return redirect("storefront:order", number=number)
    try:
        order = ordering.order_substitute_decide(
            number=number,
            sku=sku,
            accept=decision == "accept",
            customer_id=shopper.customer_id(request),
        )
    except ordering.OrderNotFoundError:
        raise Http404("No such order")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        line = next(x for x in order.lines if x.sku == sku)
        if decision == "accept":
            messages.success(request, f"You accepted {line.substitute_name}.")
        else:
            messages.success(
                request,
                f"You rejected {line.substitute_name}: it is not charged and goes back to the "
                f"shop. Your new total is {order.total} {order.currency}.",
            )
    return redirect("storefront:order", number=number)


@login_required
@require_POST
def order_problem(request: HttpRequest, number: str, sku: str) -> HttpResponse:
    """Report a missing, damaged or wrong item (within 48 h of delivery)."""
    try:
        kind = ordering.ProblemKind(request.POST.get("kind", ""))
        quantity = int(request.POST.get("quantity", ""))
    except ValueError:
        messages.error(request, "Choose what went wrong and how many.")
        return redirect("storefront:order", number=number)
    try:
        problem = ordering.problem_report(
            number=number,
            customer_id=shopper.customer_id(request),
            sku=sku,
            kind=kind,
            quantity=quantity,
            note=request.POST.get("note", ""),
        )
    except ordering.OrderNotFoundError:
        raise Http404("No such order")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if problem.status == ordering.ProblemStatus.REFUNDED:
            messages.success(
                request, f"Sorry about {problem.name}: we refunded {problem.amount} to your card."
            )
        else:
            messages.success(
                request,
                f"Sorry about {problem.name}: our support team will look at it shortly "
                "(we usually answer within a day).",
            )
    return redirect("storefront:order", number=number)


@login_required
@require_POST
def order_reorder(request: HttpRequest, number: str) -> HttpResponse:
    """Buy again: the order's items that are still sold go into the cart."""
    try:
        cart = ordering.cart_reorder(
            owner=shopper.cart_owner(request),
            number=number,
            customer_id=shopper.customer_id(request),
        )
    except ordering.OrderNotFoundError:
        raise Http404("No such order")
    shopper.remember_cart(request, cart)
    messages.success(request, f"The items of order {number} are in your cart.")
    for notice in cart.notices:
        messages.warning(request, notice)
    return redirect("storefront:cart")


@login_required
@require_GET
def order_proof(request: HttpRequest, number: str) -> HttpResponseBase:
    """The proof of delivery image, for the order's customer and staff only."""
    try:
        proof = delivery.proof_file(
            order_number=number, viewer_id=shopper.customer_id(request), staff=request.user.is_staff
        )
    except delivery.ProofNotFoundError:
        raise Http404("No proof of delivery")
    response = FileResponse(default_storage.open(proof.name), content_type=proof.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
