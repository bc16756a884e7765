"""Dispatcher admin: couriers, blocks, live jobs by state, at-risk jobs, offer history, and a
reassign action (through the dispatch service, never around it)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html

from fulfillment.services import hub_get
from prime_now.kernel.errors import ApplicationError, NotFoundError

from ..models import Block, BlockClaim, CourierProfile, DeliveryJob, Offer, Trip
from ..models.transport import FINAL_JOB_STATUSES
from ..transport.blocks import block_check, block_publish, block_wanted_set
from ..transport.dispatcher import job_reassign
from ..transport.errors import ProofNotFoundError
from ..transport.proofs import proof_file


class CourierProfileForm(forms.ModelForm):
    """The hubs a courier works for must exist (blocks are claimed only at those)."""

    class Meta:
        model = CourierProfile
        fields = ("user", "vehicle", "bag_capacity", "home_hub_code", "other_hub_codes", "rating")

    def clean(self):
        cleaned = super().clean() or {}
        for field in ("home_hub_code", "other_hub_codes"):
            value = cleaned.get(field)
            codes = [value] if isinstance(value, str) else list(value or ())
            unknown = [code for code in codes if not hub_exists(code=code)]
            if unknown:
                self.add_error(field, f"No hub {', '.join(unknown)}.")
        return cleaned


@admin.register(CourierProfile)
class CourierProfileAdmin(admin.ModelAdmin):
    form = CourierProfileForm
    list_display = (
        "user",
        "home_hub_code",
        "other_hub_codes",
        "vehicle",
        "bag_capacity",
        "rating",
        "online",
        "located_at",
    )
    list_filter = ("online", "home_hub_code", "vehicle")
    search_fields = ("user__username", "home_hub_code")
    readonly_fields = ("online", "online_changed_at", "lat", "lon", "speed_kmh", "located_at")


def hub_exists(*, code: str) -> bool:
    try:
        hub_get(code=code)
    except NotFoundError:
        return False
    return True


class BlockClaimInline(admin.TabularInline):
    model = BlockClaim
    extra = 0
    can_delete = False
    readonly_fields = ("courier", "status", "claimed_at", "forfeited_at")

    def has_add_permission(self, request, obj=None):
        return False


class BlockForm(forms.ModelForm):
    """The block service's rules as form errors (an invalid edit is shown, never a 500)."""

    class Meta:
        model = Block
        fields = ("hub_code", "starts_at", "ends_at", "wanted")

    def clean(self):
        cleaned = super().clean() or {}
        wanted = cleaned.get("wanted")
        if self.instance.pk is not None:
            if wanted is not None and wanted < self.instance.claimed:
                self.add_error(
                    "wanted",
                    f"{self.instance.claimed} couriers have claimed this block already: "
                    "want at least that many.",
                )
            return cleaned
        hub_code, starts_at, ends_at = (
            cleaned.get(k) for k in ("hub_code", "starts_at", "ends_at")
        )
        if hub_code is None or starts_at is None or ends_at is None or wanted is None:
            return cleaned
        try:
            block_check(hub_code=hub_code, starts_at=starts_at, ends_at=ends_at, wanted=wanted)
        except ApplicationError as error:
            for field, problem in error.fields.items():
                self.add_error(field if field in self.fields else None, problem)
        return cleaned


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    """Operators publish blocks here; claims come from couriers."""

    list_display = ("hub_code", "starts_at", "ends_at", "wanted", "claimed")
    list_filter = ("hub_code",)
    date_hierarchy = "starts_at"
    inlines = [BlockClaimInline]

    def get_readonly_fields(self, request, obj=None):
        return (
            ("claimed", "created_by")
            if obj is None
            else ("hub_code", "starts_at", "ends_at", "claimed", "created_by")
        )

    form = BlockForm

    def save_model(self, request, obj, form, change):
        # Through the service (the form checked the same rules; a claim made since is
        # caught under the block's lock and reported, not raised).
        try:
            if change:
                block_wanted_set(block_id=obj.pk, wanted=obj.wanted)
                return
            dto = block_publish(
                hub_code=obj.hub_code,
                starts_at=obj.starts_at,
                ends_at=obj.ends_at,
                wanted=obj.wanted,
                actor_id=request.user.pk,
            )
            obj.pk = dto.id
        except ApplicationError as error:
            message = "; ".join(str(v) for v in error.fields.values()) or error.message
            self.message_user(request, f"Not saved: {message}", messages.ERROR)


class OfferInline(admin.TabularInline):
    """The job's offer history."""

    model = Offer
    extra = 0
    can_delete = False
    fields = (
        "courier",
        "status",
        "broadcast",
        "distance_km",
        "created_at",
        "expires_at",
        "responded_at",
    )
    readonly_fields = fields
    ordering = ("created_at",)

    def has_add_permission(self, request, obj=None):
        return False


class AtRiskFilter(admin.SimpleListFilter):
    title = "needs a dispatcher"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return (("at_risk", "At risk (late)"), ("flagged", "Flagged (any reason)"))

    def queryset(self, request, queryset):
        live = queryset.exclude(status__in=FINAL_JOB_STATUSES)
        if self.value() == "at_risk":
            return live.filter(at_risk=True)
        if self.value() == "flagged":
            return live.filter(flagged_at__isnull=False)
        return queryset


class ReassignForm(ActionForm):
    courier_username = forms.CharField(
        required=False, help_text="Courier to offer it to (blank: the next candidate)."
    )


@admin.register(DeliveryJob)
class DeliveryJobAdmin(admin.ModelAdmin):
    list_display = (
        "order_number",
        "hub_code",
        "status",
        "courier",
        "window_end",
        "eta",
        "misses",
        "at_risk",
        "flag_reason",
    )
    list_filter = (AtRiskFilter, "status", "hub_code", "broadcast")
    search_fields = ("order_number", "postcode", "courier__user__username")
    ordering = ("window_end",)
    inlines = [OfferInline]
    action_form = ReassignForm
    actions = ["reassign"]
    readonly_fields = [*(f.name for f in DeliveryJob._meta.fields), "proof_image"]

    @admin.display(description="Proof of delivery")
    def proof_image(self, job: DeliveryJob) -> str:
        if not job.proof_reference:
            return "—"
        url = reverse("admin:delivery_deliveryjob_proof", args=[job.pk])
        return format_html(
            '<a href="{}"><img src="{}" alt="Proof of delivery ({})" width="240"></a>',
            url,
            url,
            job.get_proof_kind_display(),
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        proof = path(
            "<uuid:job_id>/proof/",
            self.admin_site.admin_view(self.proof_view),
            name="delivery_deliveryjob_proof",
        )
        return [proof, *super().get_urls()]

    def proof_view(self, request, job_id):
        """The job's proof image, for staff who may view delivery jobs."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = DeliveryJob.objects.filter(pk=job_id).first()
        if job is None:
            raise Http404("No such job")
        try:
            proof = proof_file(order_number=job.order_number, viewer_id=request.user.pk, staff=True)
        except ProofNotFoundError:
            raise Http404("No proof of delivery") from None
        response = FileResponse(default_storage.open(proof.name), content_type=proof.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.action(description="Reassign (take back and offer again)", permissions=["change"])
    def reassign(self, request, queryset):
        username = (request.POST.get("courier_username") or "").strip()
        courier_user_id = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                self.message_user(request, f"No user {username!r}.", messages.ERROR)
                return
            courier_user_id = user.pk
        done = 0
        for job in queryset:
            try:
                job_reassign(
                    job_id=str(job.pk), actor_id=request.user.pk, courier_user_id=courier_user_id
                )
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{job.order_number}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"Reassigned {done} job(s).", messages.SUCCESS)


@admin.register(Trip)
class TripAdmin(admin.ModelAdmin):
    list_display = ("id", "courier", "hub_code", "status", "bags", "created_at", "completed_at")
    list_filter = ("status", "hub_code")
    readonly_fields = [f.name for f in Trip._meta.fields]

    def has_add_permission(self, request):
        return False
