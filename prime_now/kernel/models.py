import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from knox.models import AbstractAuthToken
from rest_framework_api_key.models import AbstractAPIKey


class User(AbstractUser):  # type: ignore[django-manager-missing]  # knox is untyped
    """Customers, couriers, pickers and operators are all users; roles are groups."""

    email = models.EmailField("email address", blank=True)

    class Meta:
        db_table = "kernel_user"

    def has_role(self, role: str) -> bool:
        """Whether the user holds this role (a `roles.Role`, or its name)."""
        return self.groups.filter(name=str(role)).exists()

    @property
    def roles(self) -> list[str]:
        return sorted(self.groups.values_list("name", flat=True))

    def save(self, *args: Any, **kwargs: Any) -> None:
        # set_password() leaves the new raw password in _password until the next save.
        password_changed = getattr(self, "_password", None) is not None
        super().save(*args, **kwargs)
        if password_changed or not self.is_active:
            # Tidying only: the tokens are refused already (DeviceToken.credentials no longer
            # matches, or the user is inactive), even when a bulk update skipped this save.
            DeviceToken.objects.filter(user=self).delete()


class DeviceToken(AbstractAuthToken):
    """A user's API token on one device (django-rest-knox): only its hash is stored; it expires
    unless used (sliding); logging out deletes it.

    `credentials` is a keyed hash of the user's password hash when the token was issued: a
    token issued before the password changed no longer matches and is refused at once.
    """

    device = models.CharField(max_length=100, blank=True)
    credentials = models.CharField(max_length=128)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["user", "expiry"], name="devicetoken_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} on {self.device or 'a device'} ({self.token_key}…)"


class ApiScope(models.TextChoices):
    """What a partner API key may do; each API view that takes keys names the one it needs."""

    CATALOG_READ = "catalog:read", "catalog:read: departments and products"
    PROMISE_READ = "promise:read", "promise:read: the delivery promise and window picker"
    ORDERS_WRITE = "orders:write", "orders:write: place orders for the partner's customers"
    TRACKING_READ = "tracking:read", "tracking:read: the partner's orders and their tracking"


class PartnerKey(AbstractAPIKey):
    """A partner's API key (djangorestframework-api-key): `<prefix>.<secret>`, of which only
    the prefix and a SHA-512 hash are stored; the plain key is shown once, at creation.

    The key acts as its partner's account: an order placed with it is that account's order
    (the partner buys for its customer and delivers to the customer's address), and records
    the key's prefix. Revoking cannot be undone; every request looks the key up again, so a
    revoked or expired key is refused on the next request in every process.
    """

    account = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="partner_keys",
        help_text="The partner's account: orders placed with this key are this account's.",
    )
    scopes = ArrayField(
        models.CharField(max_length=32, choices=ApiScope.choices),
        default=list,
        blank=True,
        help_text="What the key may do; a request outside them is refused (403).",
    )
    last_used = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="To the minute."
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "partner API key"
        verbose_name_plural = "partner API keys"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class OutboxEvent(models.Model):
    """An event written in its publisher's transaction, relayed to Celery after commit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, db_index=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    relayed_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Left to its publisher, which hands it on after commit, until this time; "
        "the periodic relay takes it only after.",
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(relayed_at__isnull=True),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"


class HandledEvent(models.Model):
    """One row per (event, handler) that ran: a redelivered event is skipped."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=300)
    handled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "handler"], name="handled_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.handler} handled {self.event_id}"


class Lever(models.Model):
    """A switch that sheds a feature without a deploy. Declared in code by the app that owns the
    feature (`<app>/levers.py`) and created on migrate; `enabled` is its only state."""

    class Criticality(models.TextChoices):
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"

    name = models.SlugField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True, help_text="On: the feature is served.")
    description = models.CharField("what it sheds", max_length=300, blank=True)
    owner = models.CharField(max_length=50, blank=True, help_text="The app that declares it.")
    criticality = models.CharField(
        max_length=10, choices=Criticality.choices, default=Criticality.LOW
    )
    default = models.BooleanField(default=True, help_text="Its state when created.")
    safe = models.BooleanField(
        default=True, help_text="The state assumed while the lever store cannot be read."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} ({'on' if self.enabled else 'off'})"


class LeverChange(models.Model):
    """The audit log of levers: every change, by hand or by the load-shedding controller."""

    lever = models.ForeignKey(Lever, on_delete=models.CASCADE, related_name="changes")
    old = models.BooleanField()
    new = models.BooleanField()
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    automatic = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(condition=~Q(old=models.F("new")), name="lever_change_changes")
        ]

    def __str__(self) -> str:
        return f"{self.lever.name}: {'on' if self.old else 'off'} -> {'on' if self.new else 'off'}"


class DeadLetterKind(models.TextChoices):
    EVENT = "event", "Event handler"
    TASK = "task", "Task"


class DeadLetter(models.Model):
    """Work that was given up on, kept for an operator to read and replay: an event whose
    handler exhausted its retries, or a task whose worker died with it too many times."""

    kind = models.CharField(max_length=10, choices=DeadLetterKind.choices)
    name = models.CharField(
        max_length=300, help_text="The handler (events) or the task's name (tasks)."
    )
    event = models.ForeignKey(
        OutboxEvent, null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False
    )
    kwargs = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replays = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(replayed_at__isnull=True), name="deadletter_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name} ({self.attempts} attempts)"


class Fault(models.Model):
    """A fault injected on purpose (kernel/faults.py), kept after it is cleared: the audit of
    every injection (who, why, what, when, until when)."""

    # The values of faults.FaultTarget and faults.FaultKind (a test holds them equal).
    TARGETS = ("catalog", "fulfillment", "ordering", "delivery", "payment", "cache", "broker")
    KINDS = ("latency", "error", "timeout")

    target = models.CharField(max_length=20, choices=[(t, t) for t in TARGETS])
    kind = models.CharField(max_length=10, choices=[(k, k) for k in KINDS])
    latency_ms = models.PositiveIntegerField(
        default=0, help_text="Latency: added to each call hit. Timeout: how long a call hangs."
    )
    share = models.FloatField(default=1.0, help_text="The share of calls hit, above 0, at most 1.")
    hub_code = models.CharField(max_length=20, blank=True, help_text="Only calls for this hub.")
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share__gt=0, share__lte=1), name="fault_share_range"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="fault_expires_later"
            ),
        ]

    def __str__(self) -> str:
        where = f" hub {self.hub_code}" if self.hub_code else ""
        delay = f" {self.latency_ms} ms" if self.latency_ms else ""
        return f"{self.kind}{delay} at {self.target}{where}, {self.share:.0%} of calls"

    @property
    def active(self) -> bool:
        return self.cleared_at is None and self.expires_at > timezone.now()
