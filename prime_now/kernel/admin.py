from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import bus
from .models import HandledEvent, Lever, OutboxEvent, User


@admin.register(User)
class PrimeNowUserAdmin(UserAdmin[User]):
    list_display = ("username", "email", "first_name", "last_name", "role_names", "is_staff")
    list_filter = ("groups", "is_staff", "is_superuser", "is_active")

    @admin.display(description="roles")
    def role_names(self, obj: User) -> str:
        return ", ".join(obj.roles)


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin[OutboxEvent]):
    list_display = ("name", "id", "created_at", "relayed_at", "leased_until", "attempts")
    list_filter = ("name", ("relayed_at", admin.EmptyFieldListFilter))
    search_fields = ("id", "name")
    readonly_fields = (
        "id",
        "name",
        "payload",
        "created_at",
        "relayed_at",
        "leased_until",
        "attempts",
        "last_error",
    )
    actions = ("relay_now",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Relay pending events now")
    def relay_now(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        count = bus.relay(event_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"Relayed {count} event(s).")


@admin.register(HandledEvent)
class HandledEventAdmin(admin.ModelAdmin[HandledEvent]):
    list_display = ("event_id", "handler", "handled_at")
    search_fields = ("event_id", "handler")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Lever)
class LeverAdmin(admin.ModelAdmin[Lever]):
    list_display = ("name", "enabled", "description", "updated_at")
    list_editable = ("enabled",)
    search_fields = ("name",)
