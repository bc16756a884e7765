from typing import Any

from axes.admin import AccessAttemptAdmin
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from . import breakers, bus, deadletters, faults, tokens
from .errors import ApplicationError
from .levers import lever_set
from .models import (
    ApiScope,
    DeadLetter,
    DeviceToken,
    Fault,
    HandledEvent,
    Lever,
    LeverChange,
    OutboxEvent,
    PartnerKey,
    User,
)

# axes' "clean up expired attempts" deletes rows: only for whoever may delete them.
AccessAttemptAdmin.cleanup_expired_attempts.allowed_permissions = ("delete",)  # type: ignore[attr-defined]

# The library's own key model is not used (kernel.PartnerKey is): keep it out of the admin.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(User)
class PrimeNowUserAdmin(UserAdmin[User]):
    list_display = ("username", "email", "first_name", "last_name", "role_names", "is_staff")
    list_filter = ("groups", "is_staff", "is_superuser", "is_active")
    actions = ("sign_out_everywhere",)

    @admin.display(description="roles")
    def role_names(self, obj: User) -> str:
        return ", ".join(obj.roles)

    def has_sign_out_permission(self, request: HttpRequest) -> bool:
        """Whoever may delete users' API tokens (support, operators) signs them out."""
        return request.user.has_perm("kernel.delete_devicetoken")

    @admin.action(description="Sign out of the API on every device", permissions=["sign_out"])
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


class PartnerKeyForm(forms.ModelForm[PartnerKey]):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="What the key may do; a request outside them is refused (403).",
    )

    class Meta:
        model = PartnerKey
        fields = ("name", "account", "scopes", "expiry_date", "revoked")


@admin.register(PartnerKey)
class PartnerKeyAdmin(APIKeyModelAdmin):
    """Partners' API keys. The key is shown once, in the message after "Save"; only its prefix
    and hash are kept. Revoking (the checkbox, or the action) is for good and takes effect on
    the key's next request."""

    form = PartnerKeyForm
    list_display = (  # type: ignore[assignment]  # the library's tuple types are too narrow
        "prefix",
        "name",
        "account",
        "scope_names",
        "created",
        "expiry_date",
        "_has_expired",
        "last_used",
        "revoked",
    )
    list_filter = ("revoked", "created")  # type: ignore[assignment]
    search_fields = ("name", "prefix", "account__username")  # type: ignore[assignment]
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    actions = ("revoke",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields: tuple[str, ...] = (*super().get_readonly_fields(request, obj), "last_used")
        if obj is not None:  # a key's owner and scopes are fixed: issue a new key instead
            fields += ("account", "scopes")
        return fields

    @admin.display(description="scopes")
    def scope_names(self, obj: PartnerKey) -> str:
        return ", ".join(obj.scopes)

    @admin.action(description="Revoke the selected keys (for good)", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[PartnerKey]) -> None:
        count = queryset.filter(revoked=False).update(revoked=True)
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


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

    def has_relay_permission(self, request: HttpRequest) -> bool:
        # The rows are read-only; "change" on them is the right to act on them.
        return request.user.has_perm("kernel.change_outboxevent")

    @admin.action(description="Relay pending events now", permissions=["relay"])
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


class LeverForm(forms.ModelForm[Lever]):
    reason = forms.CharField(
        max_length=300, help_text="Why (kept in the lever's history with your name)."
    )

    class Meta:
        model = Lever
        fields = ("enabled",)


class LeverChangeInline(admin.TabularInline[LeverChange, Lever]):
    model = LeverChange
    fields = ("at", "old", "new", "automatic", "actor", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Lever)
class LeverAdmin(admin.ModelAdmin[Lever]):
    """Levers are declared in code (created on migrate): operators pull and restore them here,
    with a reason; every change is in the history below (and `LeverChange`)."""

    form = LeverForm
    list_display = ("name", "enabled", "criticality", "owner", "description", "updated_at")
    list_filter = ("enabled", "criticality", "owner")
    search_fields = ("name", "description")
    readonly_fields = ("name", "description", "owner", "criticality", "default", "safe")
    fields = (*readonly_fields, "enabled", "reason")
    inlines = [LeverChangeInline]
    actions = ["pull", "restore"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Lever, form: Any, change: bool) -> None:
        lever_set(
            obj.name,
            enabled=form.cleaned_data["enabled"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )

    def _set_all(self, request: HttpRequest, queryset: QuerySet[Lever], enabled: bool) -> None:
        verb = "restored" if enabled else "pulled"
        changed = [
            lever.name
            for lever in queryset
            if lever_set(
                lever.name,
                enabled=enabled,
                reason=f"{verb} from the admin list",
                actor=request.user,
            )
        ]
        self.message_user(request, f"{len(changed)} lever(s) {verb}.", messages.SUCCESS)

    @admin.action(
        description="Pull the selected levers (shed their features)", permissions=["change"]
    )
    def pull(self, request: HttpRequest, queryset: QuerySet[Lever]) -> None:
        self._set_all(request, queryset, False)

    @admin.action(
        description="Restore the selected levers (serve their features)", permissions=["change"]
    )
    def restore(self, request: HttpRequest, queryset: QuerySet[Lever]) -> None:
        self._set_all(request, queryset, True)


@admin.register(LeverChange)
class LeverChangeAdmin(admin.ModelAdmin[LeverChange]):
    list_display = ("at", "lever", "old", "new", "automatic", "actor", "reason")
    list_filter = ("automatic", "lever")
    search_fields = ("lever__name", "reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FaultForm(forms.ModelForm[Fault]):
    minutes = forms.FloatField(initial=10, min_value=0.1, max_value=faults.MAX_MINUTES)

    class Meta:
        model = Fault
        fields = ("target", "kind", "latency_ms", "share", "hub_code", "reason")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not faults.allowed():
            raise forms.ValidationError(faults.FaultsNotAllowedError.default_message)
        return data


@admin.register(Fault)
class FaultAdmin(admin.ModelAdmin[Fault]):
    """Inject a fault (kept after it is cleared: the audit), clear it; the breakers' live
    states are shown above the list."""

    form = FaultForm
    list_display = (
        "__str__",
        "is_active",
        "reason",
        "created_by",
        "created_at",
        "expires_at",
        "cleared_at",
    )
    list_filter = ("target", "kind", "cleared_at")
    actions = ["clear"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: Fault) -> bool:
        return obj.active

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Fault, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            spec = faults.fault_add(
                target=data["target"],
                kind=data["kind"],
                latency_ms=data["latency_ms"],
                share=data["share"],
                hub_code=data["hub_code"],
                minutes=data["minutes"],
                reason=data["reason"],
                actor=request.user,
            )
        except ApplicationError as exc:  # the form checked the same: a race at most
            raise forms.ValidationError(f"{exc.message} {exc.fields}") from exc
        obj.pk = spec.id

    @admin.action(description="Clear the selected faults", permissions=["change"])
    def clear(self, request: HttpRequest, queryset: QuerySet[Fault]) -> None:
        cleared = sum(faults.fault_clear(fault_id=f.pk, actor=request.user) for f in queryset)
        self.message_user(request, f"{cleared} fault(s) cleared.", messages.SUCCESS)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        states = breakers.breaker_states()
        rows = []
        for name, state in states.items():
            config = breakers.breaker_config(name)
            rows.append({"name": name, "state": state, **config})
        extra = {"breakers": rows, "faults_allowed": faults.allowed(), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin[DeadLetter]):
    """What was given up on: read the error and traceback, fix the cause, then "Retry now"."""

    list_display = ("created_at", "kind", "name", "attempts", "short_error", "replayed_at")
    list_filter = ("kind", ("replayed_at", admin.EmptyFieldListFilter), "name")
    search_fields = ("name", "last_error", "event__id")
    readonly_fields = (
        "kind",
        "name",
        "event",
        "kwargs",
        "attempts",
        "last_error",
        "traceback",
        "created_at",
        "replayed_at",
        "replays",
    )
    actions = ("retry_now",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="last error")
    def short_error(self, obj: DeadLetter) -> str:
        return obj.last_error[:120]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        # The rows are read-only; "change" on them is the right to replay them.
        return request.user.has_perm("kernel.change_deadletter")

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        count = deadletters.replay(queryset)
        self.message_user(request, f"Sent {count} dead letter(s) again.")
