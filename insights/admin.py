from django.contrib import admin

from .models import Attempt


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin[Attempt]):
    """Read-only: insights' handlers write attempts from the apps' facts."""

    list_display = (
        "reference", "hub_code", "attempted_at", "stage", "outcome", "drop_reason", "drop_stage",
    )  # fmt: skip
    list_filter = ("outcome", "drop_reason", "drop_stage", "stage", "hub_code")
    search_fields = ("reference", "order_number")
    date_hierarchy = "attempted_at"
    readonly_fields = [field.name for field in Attempt._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
