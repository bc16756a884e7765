"""Admin for windows, templates, holds and checkouts. Writes go through the services."""

from django import forms
from django.contrib import admin, messages

from delivery.facade.windows import window_set_capacity, windows_generate
from delivery.models import Checkout, SavedAddress, Window, WindowHold, WindowTemplate
from prime_now.kernel.errors import ApplicationError


@admin.register(WindowTemplate)
class WindowTemplateAdmin(admin.ModelAdmin):
    list_display = (
        "hub_code",
        "kind",
        "start_hour",
        "end_hour",
        "capacity",
        "fee",
        "free_above",
        "cutoff_minutes",
        "active",
    )
    list_filter = ("kind", "active")
    list_editable = ("capacity", "fee", "free_above", "cutoff_minutes", "active")
    search_fields = ("hub_code",)
    actions = ("generate_week",)

    @admin.action(description="Generate windows for the next 7 days", permissions=["change"])
    def generate_week(self, request, queryset):
        codes = sorted(set(queryset.values_list("hub_code", flat=True)))
        report = windows_generate(days=7, hub_codes=codes)
        self.message_user(
            request, f"{report.created} windows created for {', '.join(report.hubs)}."
        )
        if report.skipped_hubs:
            self.message_user(
                request,
                f"Unknown or inactive hubs skipped: {', '.join(report.skipped_hubs)}",
                messages.WARNING,
            )


class WindowCapacityForm(forms.ModelForm):
    class Meta:
        model = Window
        fields = ("capacity",)

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk and capacity < self.instance.booked + self.instance.held:
            raise forms.ValidationError(
                f"Cannot go below the {self.instance.booked + self.instance.held} orders "
                "already booked or in checkout."
            )
        return capacity


@admin.register(Window)
class WindowAdmin(admin.ModelAdmin):
    """Capacity is the one thing operators change on a live window (inline in the list)."""

    form = WindowCapacityForm
    list_display = (
        "hub_code",
        "kind",
        "start",
        "end",
        "cutoff_at",
        "fee",
        "capacity",
        "booked",
        "held",
    )
    list_editable = ("capacity",)
    list_filter = ("kind", "hub_code")
    date_hierarchy = "start"
    ordering = ("start", "hub_code", "kind")
    readonly_fields = (
        "hub_code",
        "kind",
        "start",
        "end",
        "cutoff_at",
        "fee",
        "free_above",
        "booked",
        "held",
        "template",
    )
    fields = readonly_fields[:7] + ("capacity",) + readonly_fields[7:]

    def has_add_permission(self, request):
        return False  # windows come from templates (generate_windows)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            window_set_capacity(window_id=obj.pk, capacity=form.cleaned_data["capacity"])
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)


@admin.register(WindowHold)
class WindowHoldAdmin(admin.ModelAdmin):
    list_display = ("reference", "window", "status", "expires_at", "created_at")
    list_filter = ("status",)
    search_fields = ("reference",)
    list_select_related = ("window",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "order_number",
        "customer",
        "status",
        "hub_code",
        "window",
        "total",
        "failure_code",
    )
    list_filter = ("status", "failure_code", "hub_code")
    search_fields = ("order_number", "reservation_id", "idempotency_key", "customer__username")
    list_select_related = ("customer", "window")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SavedAddress)
class SavedAddressAdmin(admin.ModelAdmin):
    list_display = ("customer", "label", "address", "postcode", "is_default", "updated_at")
    list_filter = ("is_default",)
    search_fields = ("customer__username", "customer__email", "label", "address", "postcode")
    list_select_related = ("customer",)
    # Read-only: customers keep their own address book (the service sets coordinates and the
    # one default).
    readonly_fields = [f.name for f in SavedAddress._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
