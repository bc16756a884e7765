"""Delivery windows, window templates and holds, checkout records."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from prime_now.kernel.money import MoneyField

__all__ = [
    "SavedAddress",
    "Checkout",
    "CheckoutStatus",
    "HoldStatus",
    "Window",
    "WindowHold",
    "WindowKind",
    "WindowTemplate",
]


class WindowKind(models.TextChoices):
    """The kinds of delivery window: one hour (paid) or two hours (free above a basket minimum)."""

    ONE_HOUR = "one_hour", "One hour (paid)"
    TWO_HOUR = "two_hour", "Two hours (free above a minimum basket)"


KIND_HOURS = {WindowKind.ONE_HOUR: 1, WindowKind.TWO_HOUR: 2}


class WindowTemplate(models.Model):
    """How a hub sells one kind of window: which hours of the day, how many orders each,
    at what fee. `generate_windows` turns templates into dated windows; editing a template
    changes only windows generated afterwards (change a live window's capacity on the window)."""

    hub_code = models.CharField(max_length=32, db_index=True)
    kind = models.CharField(max_length=16, choices=WindowKind.choices)
    start_hour = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(23)], help_text="First window starts at this hour (local)."
    )
    end_hour = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="Last window ends at this hour (local, 24 = midnight).",
    )
    capacity = models.PositiveIntegerField(default=20, help_text="Orders per window.")
    fee = MoneyField(default=Decimal("0.00"))
    free_above = MoneyField(
        null=True,
        blank=True,
        help_text="Basket subtotal from which the fee is waived (empty: never).",
    )
    cutoff_minutes = models.PositiveIntegerField(
        default=15, help_text="Sales close this many minutes before the window starts."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["hub_code", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["hub_code", "kind"], name="window_template_per_kind"),
            models.CheckConstraint(
                condition=Q(start_hour__lt=F("end_hour")) & Q(end_hour__lte=24),
                name="window_template_hours_ordered",
            ),
            models.CheckConstraint(condition=Q(fee__gte=0), name="window_template_fee_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.hub_code} {self.get_kind_display()} {self.start_hour}-{self.end_hour}h"

    @property
    def hours(self) -> int:
        return KIND_HOURS[WindowKind(self.kind)]


class Window(models.Model):
    """A dated delivery window at one hub. `held` counts checkouts in progress, `booked` placed
    orders; the database refuses more of both together than the capacity."""

    hub_code = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=WindowKind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    cutoff_at = models.DateTimeField(help_text="Sales close at this time.")
    fee = MoneyField(default=Decimal("0.00"))
    free_above = MoneyField(null=True, blank=True)
    capacity = models.PositiveIntegerField()
    booked = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    template = models.ForeignKey(
        WindowTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="windows"
    )

    class Meta:
        ordering = ["start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["hub_code", "kind", "start"], name="window_unique"),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="window_booked_lte_capacity"
            ),
            models.CheckConstraint(
                condition=Q(held__gte=0)
                & Q(booked__gte=0)
                & Q(capacity__gte=F("booked") + F("held")),
                name="window_booked_held_lte_capacity",
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="window_end_after_start"),
            models.CheckConstraint(
                condition=Q(cutoff_at__lte=F("start")), name="window_cutoff_before_start"
            ),
            models.CheckConstraint(condition=Q(fee__gte=0), name="window_fee_gte_0"),
        ]
        indexes = [models.Index(fields=["hub_code", "start"], name="window_hub_start_idx")]

    def __str__(self) -> str:
        return f"{self.hub_code} {self.kind} {self.start:%Y-%m-%d %H:%M}"

    @property
    def available(self) -> int:
        return max(self.capacity - self.booked - self.held, 0)


class HoldStatus(models.TextChoices):
    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"


class WindowHold(models.Model):
    """A seat in a window kept for a checkout in progress, until `expires_at`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="holds")
    reference = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=HoldStatus.choices, default=HoldStatus.HELD)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="held"), name="window_hold_live_idx"
            )
        ]

    def __str__(self) -> str:
        return f"hold {self.reference} on {self.window_id} ({self.status})"


class CheckoutStatus(models.TextChoices):
    STARTED = "started"
    PLACED = "placed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Checkout(models.Model):
    """One checkout: ties the order number to the stock reservation and the window, keeps what
    the pick job needs (lines with product ids, when to be packed), and is the checkout's
    idempotency record: a retry with its key (for 24 h) gets `replay`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by checkout_once_per_key (customer, idempotency_key).
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    idempotency_key = models.CharField(
        max_length=255, null=True, help_text="Emptied after 24 h: the customer may use it again."
    )
    request_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="HMAC of the request without its payment token; empty for checkouts from "
        "before the card was left out (their hash was erased).",
    )
    attempt = models.PositiveIntegerField(
        default=1, help_text="Runs of this checkout (one that failed on a service may run again)."
    )
    status = models.CharField(
        max_length=16, choices=CheckoutStatus.choices, default=CheckoutStatus.STARTED
    )
    hub_code = models.CharField(max_length=32, blank=True)
    window = models.ForeignKey(Window, null=True, on_delete=models.PROTECT, related_name="+")
    reservation_id = models.CharField(max_length=64, blank=True)
    order_number = models.CharField(max_length=32, blank=True, db_index=True)
    lines = models.JSONField(default=list, blank=True)
    pick_due_by = models.DateTimeField(null=True, blank=True)
    total = MoneyField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.TextField(blank=True)
    replay = models.JSONField(
        null=True,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text="What a retry with the same key gets: the result once placed, the error once "
        "failed for the customer's reason (none when a service failed: the retry runs again).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"], name="checkout_once_per_key"
            ),
            models.UniqueConstraint(
                fields=["order_number"],
                condition=~Q(order_number=""),
                name="checkout_order_number_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(idempotency_key__isnull=False),
                name="checkout_key_live_idx",
            )
        ]

    def __str__(self) -> str:
        return f"checkout {self.order_number or self.id} ({self.status})"


class SavedAddress(models.Model):
    """A customer's address book entry: where to deliver, by name ("Home", "Work"). Its
    coordinates come from a geocoder when there is one, else from the postcode's centre (the
    hubs that serve it); one address per customer is the default."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_addresses"
    )
    label = models.CharField(max_length=40)
    address = models.CharField(max_length=200)
    postcode = models.CharField(max_length=16)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "label", "id"]
        verbose_name_plural = "saved addresses"
        constraints = [
            models.UniqueConstraint(fields=["customer", "label"], name="address_label_once"),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_default=True),
                name="address_one_default_per_customer",
            ),
            models.CheckConstraint(
                condition=~Q(label="") & ~Q(address="") & ~Q(postcode=""),
                name="address_fields_not_blank",
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lon__isnull=True))
                | (Q(lat__gte=-90, lat__lte=90) & Q(lon__gte=-180, lon__lte=180)),
                name="address_coordinates_on_the_map",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.address}, {self.postcode}"
