"""Operators: hubs are edited here; stock only through services (the adjust action writes
the ledger). A plain save of a stock row writes its location fields only, never on_hand or
reserved, so it cannot overwrite a reservation made while the form was open.

Every hub's rows (hubs, stock, movements, reservations, pick jobs) are scoped: a user who may
not `fulfillment.manage_all_hubs` (a hub manager) sees, changes and acts on only those of the
hubs they are staff of; another hub's row is "not found", in lists, pages and actions alike."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import render

from prime_now.kernel.errors import ApplicationError

from . import services
from .models import (
    Hub,
    HubStaff,
    MovementKind,
    OpeningHours,
    PickJob,
    PickJobLine,
    PostcodeCentroid,
    Reservation,
    ReservationLine,
    Stock,
    StockMovement,
)


def hubs_of(request: HttpRequest) -> QuerySet[Hub] | None:
    """The hubs this admin user may manage; None for every hub."""
    if request.user.has_perm("fulfillment.manage_all_hubs"):
        return None
    return Hub.objects.filter(staff__user_id=request.user.pk or 0)  # 0: no user, no hub


class HubScopedAdmin(admin.ModelAdmin):
    """Rows of the user's own hubs only, unless they manage every hub."""

    hub_path = "hub"  # how a row reaches its hub

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        hubs = hubs_of(request)
        if hubs is None:
            return rows
        return rows.filter(**{f"{self.hub_path}__in": hubs})

    def get_list_filter(self, request):
        # The hub filter lists every hub: only for those who manage them all.
        keep = hubs_of(request) is None
        return [f for f in super().get_list_filter(request) if keep or "hub" not in str(f)]


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class HubStaffInline(admin.TabularInline):
    model = HubStaff
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Hub)
class HubAdmin(HubScopedAdmin):
    hub_path = "pk"

    list_display = ("code", "name", "postcode", "radius_km", "picking_capacity_per_hour", "active")
    list_filter = ("active", "timezone")
    search_fields = ("code", "name", "address", "postcode")
    inlines = [OpeningHoursInline, HubStaffInline]


class AdjustStockForm(forms.Form):
    kind = forms.TypedChoiceField(
        choices=[
            (MovementKind.RECEIVED, "received (goods in)"),
            (MovementKind.ADJUSTED, "adjusted (correction)"),
            (MovementKind.DAMAGED, "damaged (write-off)"),
            (MovementKind.RETURNED, "returned (back on the shelf)"),
        ],
        coerce=MovementKind,
    )
    delta = forms.IntegerField(help_text="Units to add (positive) or remove (negative).")
    reason = forms.CharField(max_length=300)


@admin.register(Stock)
class StockAdmin(HubScopedAdmin):
    list_display = ("hub", "sku", "name", "aisle", "bin", "on_hand", "reserved", "available")
    list_filter = ("hub",)
    search_fields = ("sku", "name", "=product_id")
    list_select_related = ("hub",)
    readonly_fields = ("hub", "product_id", "sku", "name", "on_hand", "reserved", "updated_at")
    fields = (
        "hub",
        "product_id",
        "sku",
        "name",
        "aisle",
        "bin",
        "low_stock_threshold",
        "on_hand",
        "reserved",
        "updated_at",
    )
    actions = ["adjust"]
    EDITABLE = ("aisle", "bin", "low_stock_threshold")

    def has_add_permission(self, request) -> bool:
        return False  # stock arrives through "received" adjustments or import_stock

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="available")
    def available(self, obj: Stock) -> int:
        return obj.available

    def save_model(self, request, obj, form, change) -> None:
        changed = [name for name in self.EDITABLE if name in form.changed_data]
        if changed:  # never a full save: on_hand/reserved on the form may be stale
            obj.save(update_fields=changed)

    @admin.action(description="Adjust stock (writes the ledger)", permissions=["change"])
    def adjust(self, request, queryset):
        if "apply" in request.POST:
            form = AdjustStockForm(request.POST)
            if form.is_valid():
                done = 0
                for row in queryset.select_related("hub"):
                    try:
                        services.stock_adjust(
                            hub_code=row.hub.code,
                            product_id=row.product_id,
                            delta=form.cleaned_data["delta"],
                            kind=form.cleaned_data["kind"],
                            reason=form.cleaned_data["reason"],
                            actor_id=request.user.pk,
                            reference="admin",
                        )
                        done += 1
                    except ApplicationError as exc:
                        self.message_user(request, f"{row.sku}: {exc.message}", messages.ERROR)
                if done:
                    self.message_user(request, f"Adjusted {done} stock row(s).", messages.SUCCESS)
                return None
        else:
            form = AdjustStockForm()
        return render(
            request,
            "admin/fulfillment/adjust_stock.html",
            {
                **self.admin_site.each_context(request),
                "title": "Adjust stock",
                "rows": queryset.select_related("hub"),
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )


class ReadOnlyAdmin(HubScopedAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    hub_path = "stock__hub"

    list_display = (
        "created_at",
        "stock",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "actor",
        "reason",
        "reference",
    )
    list_filter = ("kind", "stock__hub")
    search_fields = ("stock__sku", "reference", "reason")
    list_select_related = ("stock__hub", "actor")


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    extra = 0
    can_delete = False
    readonly_fields = ("stock", "product_id", "quantity", "committed", "released")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("id", "hub", "reference", "status", "expires_at", "created_at")
    list_filter = ("status", "hub")
    search_fields = ("=id", "reference")
    inlines = [ReservationLineInline]
    actions = ["release"]

    def has_release_permission(self, request: HttpRequest) -> bool:
        # The rows are read-only; "change" on them is the right to release them.
        return request.user.has_perm("fulfillment.change_reservation")

    @admin.action(description="Release the held stock", permissions=["release"])
    def release(self, request, queryset):
        for reservation in queryset:
            services.stock_reservation_release(
                reservation_id=str(reservation.pk), reason=f"released by {request.user}"
            )
        self.message_user(request, "Released.", messages.SUCCESS)


class PickJobLineInline(admin.TabularInline):
    model = PickJobLine
    extra = 0
    can_delete = False
    readonly_fields = (
        "sku",
        "name",
        "quantity",
        "aisle",
        "bin",
        "substitute_sku",
        "status",
        "picked_quantity",
        "substitute_quantity",
        "confirmed_at",
    )
    exclude = ("product_id", "substitute_product_id")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PickJob)
class PickJobAdmin(ReadOnlyAdmin):
    list_display = (
        "order_ref",
        "hub",
        "status",
        "due_by",
        "picker",
        "claimed_at",
        "packed_at",
        "bags",
    )
    list_filter = ("status", "hub")
    search_fields = ("order_ref",)
    inlines = [PickJobLineInline]
    actions = ["cancel"]

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        # The rows are read-only; "change" on them is the right to cancel them.
        return request.user.has_perm("fulfillment.change_pickjob")

    @admin.action(
        description="Cancel (returns picked goods, releases the hold)", permissions=["cancel"]
    )
    def cancel(self, request, queryset):
        for job in queryset:
            services.pick_job_cancel(order_ref=job.order_ref, reason=f"cancelled by {request.user}")
        self.message_user(request, "Cancelled.", messages.SUCCESS)


@admin.register(PostcodeCentroid)
class PostcodeCentroidAdmin(admin.ModelAdmin[PostcodeCentroid]):
    """Where each postcode is: an order given only a postcode is located at its centre."""

    list_display = ("postcode", "lat", "lon")
    search_fields = ("postcode",)
