"""The picker's screens: a phone-sized page for hub staff (session login, picker role). The next
job, its pick list in walking order, confirm / short / substitute per line with a barcode field
(type the SKU), and pack with the bag count: the same fulfillment services as the picker API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from fulfillment import services as fulfillment
from prime_now.kernel.errors import ApplicationError

from .. import shopper

Line = fulfillment.PickLineStatus


def _me(request: HttpRequest) -> int:
    return shopper.customer_id(request)  # the signed-in user's id, whatever their role


def _hubs(request: HttpRequest) -> list[str]:
    return sorted(fulfillment.hub_codes_for_picker(picker_id=_me(request)))


def picker_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else the sign-in page) and a picker at some hub (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _hubs(request):
            return render(request, "storefront/picker/not_a_picker.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@picker_only
def picker_home(request: HttpRequest) -> HttpResponse:
    jobs = fulfillment.pick_jobs_for_picker(picker_id=_me(request), limit=20)
    mine = [job for job in jobs if job.picker_id == _me(request)]
    return render(
        request,
        "storefront/picker/home.html",
        {"hubs": _hubs(request), "mine": mine, "waiting": [j for j in jobs if j not in mine]},
    )


@require_POST
@picker_only
def picker_next(request: HttpRequest) -> HttpResponse:
    hub_code = request.POST.get("hub", "")
    if hub_code not in _hubs(request):
        messages.error(request, "You do not work at that hub.")
        return redirect("storefront:picker")
    job = fulfillment.pick_job_claim_next(hub_code=hub_code, picker_id=_me(request))
    if job is None:
        messages.info(request, f"No orders are waiting at {hub_code}. Check again in a minute.")
        return redirect("storefront:picker")
    return redirect("storefront:picker_job", job_id=job.id)


def _job(request: HttpRequest, job_id: str) -> fulfillment.PickJobDTO:
    try:
        return fulfillment.pick_job_for_picker(job_id=job_id, picker_id=_me(request))
    except fulfillment.PickJobNotFoundError:
        raise Http404("No such pick job")


@require_GET
@picker_only
def picker_job(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job(request, job_id)
    pending = [line for line in job.lines if line.status == Line.PENDING]
    return render(
        request,
        "storefront/picker/job.html",
        {
            "job": job,
            "pending": len(pending),
            "current": pending[0].sku if pending else None,
            "done": job.status == fulfillment.PickJobStatus.PACKED,
        },
    )


def _scan_error(line: fulfillment.PickLineDTO, action: str, barcode: str) -> str | None:
    expected = line.substitute_sku if action == "substitute" else line.sku
    if action == "substitute" and not line.substitute_sku:
        return "The customer allowed no substitute for this item."
    if barcode.strip().upper() != (expected or "").upper():
        return f"That barcode is not {expected}: scan or type the SKU on the item's label."
    return None


def _quantity(raw: str | None, default: int) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return None


@require_POST
@picker_only
def picker_line(request: HttpRequest, job_id: str, sku: str) -> HttpResponse:
    """One line: confirm (all of it), short (some or none) or substitute (the allowed one)."""
    job = _job(request, job_id)
    line = next((x for x in job.lines if x.sku == sku), None)
    if line is None:
        raise Http404("Not on this pick list")
    action = request.POST.get("action", "confirm")
    picked = _quantity(request.POST.get("picked"), line.quantity if action == "confirm" else 0)
    barcode = request.POST.get("barcode", "")
    error = None
    if action not in ("confirm", "short", "substitute") or picked is None:
        error = "Choose confirm, short or substitute, with a whole number picked."
    elif action == "confirm":
        picked = line.quantity
    elif not 0 <= picked < line.quantity:
        error = f"Short means fewer than {line.quantity}: enter how many you found."
    # Nothing found and nothing in hand: no barcode to scan.
    if error is None and not (action == "short" and picked == 0):
        error = _scan_error(line, action, barcode)
    if error:
        messages.error(request, f"{line.name}: {error}")
        return redirect("storefront:picker_job", job_id=job.id)
    assert picked is not None
    substitutes = line.quantity - picked if action == "substitute" else 0
    try:
        fulfillment.pick_line_confirm(
            job_id=job.id,
            picker_id=_me(request),
            sku=sku,
            picked_quantity=picked,
            substitute_quantity=substitutes,
        )
    except ApplicationError as exc:
        messages.error(request, f"{line.name}: {exc.message}")
    else:
        said = {
            "confirm": f"{picked} picked",
            "short": f"{picked} of {line.quantity} picked (short)",
            "substitute": f"{substitutes} × {line.substitute_sku} instead",
        }[action]
        messages.success(request, f"{line.name}: {said}.")
    return redirect("storefront:picker_job", job_id=job.id)


@require_POST
@picker_only
def picker_pack(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job(request, job_id)
    bags = _quantity(request.POST.get("bags"), 0)
    try:
        fulfillment.pick_job_pack(job_id=job.id, picker_id=_me(request), bags=bags or 0)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("storefront:picker_job", job_id=job.id)
    messages.success(request, f"Order {job.order_ref} is packed in {bags} bag(s). Well done!")
    return redirect("storefront:picker")
