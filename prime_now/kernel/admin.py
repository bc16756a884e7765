from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import bus, tokens
from .models import DeviceToken, HandledEvent, Lever, OutboxEvent, User


@admin.register(User)
class PrimeNowUserAdmin(UserAdmin[User]):
    list_display = ("username", "email", "first_name", "last_name", "role_names", "is_staff")
    list_filter = ("groups", "is_staff", "is_superuser", "is_active")
    actions = ("sign_out_everywhere",)

    @admin.display(description="roles")
    def role_names(self, obj: User) -> str:
        return ", ".join(obj.roles)

    @admin.action(description="Sign out of the API on every device", permissions=["change"])
    def sign_out_everywhere(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = sum(
            tokens.tokens_revoke_all(user_id=user_id)
            for user_id in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"Revoked {count} API token(s).")


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin[DeviceToken]):
    """Users' API sign-ins, one per device. Deleting one signs that device out; the token
    itself is never shown (only its hash is kept)."""

    list_display = ("user", "device", "token_key", "created", "expiry")
    search_fields = ("user__username", "device", "token_key")
    list_select_related = ("user",)
    fields = ("user", "device", "token_key", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


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
