"""Hubs, stock and its ledger, reservations, pick jobs.

Stock invariants live in the database: `0 <= reserved <= on_hand` is a CHECK constraint, and
every change to `on_hand` or `reserved` is written as a `StockMovement` in the same
transaction, so the sums of the ledger always equal the stock row (`verify_stock` proves it).
Rows of other apps are referenced by id only (a catalog product id plus a SKU/name snapshot).
"""

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone as dj_timezone
from django_fsm import FSMField, transition


def _validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. America/Los_Angeles).")


class PostcodeCentroid(models.Model):
    """Where a postcode is (its centre): the location of an address given only by postcode,
    so that every order has one for the courier's geofence and proof of delivery."""

    postcode = models.CharField(
        max_length=16, unique=True, help_text="Normalized: no spaces, upper case."
    )
    lat = models.FloatField()
    lon = models.FloatField()

    class Meta:
        ordering = ["postcode"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="postcode_centroid_on_earth",
            )
        ]

    def __str__(self) -> str:
        return f"{self.postcode} ({self.lat:.4f}, {self.lon:.4f})"


class Hub(models.Model):
    """A local hub ("a cloud 7-11 store"): it serves a radius and/or a list of postcodes."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    address = models.CharField(max_length=300)
    postcode = models.CharField(max_length=16)
    lat = models.FloatField()
    lon = models.FloatField()
    timezone = models.CharField(
        max_length=64, default="America/Los_Angeles", validators=[_validate_timezone]
    )
    radius_km = models.FloatField(default=0, help_text="0 = serve by postcode list only.")
    postcodes = models.JSONField(
        default=list, blank=True, help_text='Postcodes served, e.g. ["98101", "98102"].'
    )
    picking_capacity_per_hour = models.PositiveIntegerField(default=30)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)

    class Meta:
        ordering = ["code"]
        permissions = [
            (
                "manage_all_hubs",
                "Can manage every hub's stock and pick jobs (else only those of hubs they staff)",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90), name="hub_lat_range"),
            models.CheckConstraint(condition=Q(lon__gte=-180, lon__lte=180), name="hub_lon_range"),
            models.CheckConstraint(condition=Q(radius_km__gte=0), name="hub_radius_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    def clean(self) -> None:
        if not isinstance(self.postcodes, list) or not all(
            isinstance(p, str) and p.strip() for p in self.postcodes
        ):
            raise ValidationError({"postcodes": 'A list of postcodes, e.g. ["98101"].'})
        if not self.radius_km and not self.postcodes:
            raise ValidationError("A hub serves a radius, a list of postcodes, or both.")


class OpeningHours(models.Model):
    """Opening hours for one weekday in the hub's time zone.

    `opens == closes` means open around the clock; `closes < opens` runs past midnight
    (a 20:00–02:00 shift belongs to the day it starts). No row for a weekday = closed.
    """

    WEEKDAYS = [
        (0, "Monday"),
        (1, "Tuesday"),
        (2, "Wednesday"),
        (3, "Thursday"),
        (4, "Friday"),
        (5, "Saturday"),
        (6, "Sunday"),
    ]

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["hub", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["hub", "weekday"], name="hub_hours_one_per_day"),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="hub_hours_weekday_range"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.hub.code} {self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"
        )


class HubStaff(models.Model):
    """Links a user with the picker role to a hub they work at (hub staff)."""

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fulfillment_hubs"
    )
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "hub staff"
        constraints = [
            models.UniqueConstraint(fields=["hub", "user"], name="hub_staff_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.hub.code}"


class Stock(models.Model):
    """One product at one hub. Change it only through the services (they write the ledger)."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="stock")
    product_id = models.BigIntegerField(help_text="catalog product id")
    sku = models.CharField(max_length=64, help_text="snapshot of the catalog SKU")
    name = models.CharField(max_length=300, blank=True, help_text="snapshot of the product name")
    aisle = models.CharField(max_length=16, blank=True, default="")
    bin = models.CharField(max_length=16, blank=True, default="")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(default=5)
    updated_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name_plural = "stock"
        ordering = ["hub", "aisle", "bin", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["hub", "product_id"], name="stock_one_row_per_product"),
            models.UniqueConstraint(fields=["hub", "sku"], name="stock_one_row_per_sku"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_lte_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hub.code}/{self.sku}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MovementKind(models.TextChoices):
    """Why on-hand or reserved changed (one ledger row each)."""

    RECEIVED = "received"
    ADJUSTED = "adjusted"
    RESERVED = "reserved"
    RELEASED = "released"
    PICKED = "picked"
    DAMAGED = "damaged"
    RETURNED = "returned"


class StockMovement(models.Model):
    """The append-only ledger: sum(on_hand_delta) == Stock.on_hand and
    sum(reserved_delta) == Stock.reserved for every stock row."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by movement_stock_idx (stock, id): a second index on stock alone only slows
    # down every reservation's ledger rows.
    stock = models.ForeignKey(
        Stock, on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="who (empty for the system: sweeper, checkout)",
    )
    reason = models.CharField(max_length=300, blank=True)
    reference = models.CharField(
        max_length=64, blank=True, help_text="order ref, reservation id or import file"
    )
    created_at = models.DateTimeField(default=dj_timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["stock", "id"], name="movement_stock_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.on_hand_delta:+d}/{self.reserved_delta:+d} {self.stock_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("The stock ledger is append-only: a movement is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The stock ledger is append-only: a movement is never deleted.")


class ReservationStatus(models.TextChoices):
    """Where a hold is: held → confirmed → committed, or released / expired."""

    HELD = "held"  # expires at expires_at
    CONFIRMED = "confirmed"  # order placed: no longer expires
    COMMITTED = "committed"  # picked: the units left the shelf
    RELEASED = "released"
    EXPIRED = "expired"


class Reservation(models.Model):
    """A hold on stock for a checkout: all lines or none, until it expires, is released or
    is committed by the pick."""

    LIVE = (ReservationStatus.HELD, ReservationStatus.CONFIRMED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="reservations")
    reference = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.HELD
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="held"), name="reservation_held_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="held") | Q(expires_at__isnull=False),
                name="reservation_held_has_expiry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} @ {self.hub_id}: {self.status}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class ReservationLine(models.Model):
    """`quantity` units of one stock row were reserved; `committed` of them left the shelf
    (picked) and `released` went back to available. What is still held is
    `quantity - committed - released`, so Stock.reserved == sum of held over all lines."""

    # Indexed by reservation_line_once_per_stock (reservation, stock).
    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="+")
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    committed = models.PositiveIntegerField(default=0)
    released = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "stock"], name="reservation_line_once_per_stock"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_line_qty"),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("committed") + F("released")),
                name="reservation_line_held_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def held(self) -> int:
        return self.quantity - self.committed - self.released


class PickJobStatus(models.TextChoices):
    """Where a pick job is: pending → picking → packed (→ returned), or cancelled."""

    PENDING = "pending"
    PICKING = "picking"
    PACKED = "packed"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class PickJob(models.Model):
    """An order to pick and pack at a hub: pending → picking → packed (→ returned),
    or cancelled before it is delivered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_ref = models.CharField(max_length=64, unique=True)
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="pick_jobs")
    reservation = models.ForeignKey(
        Reservation, on_delete=models.PROTECT, null=True, blank=True, related_name="pick_jobs"
    )
    status = FSMField(default=PickJobStatus.PENDING, choices=PickJobStatus.choices, protected=False)
    due_by = models.DateTimeField()
    picker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    bags = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=dj_timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    picked_at = models.DateTimeField(null=True, blank=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_by", "created_at"]
        indexes = [
            models.Index(
                fields=["hub", "due_by"], condition=Q(status="pending"), name="pickjob_queue_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_ref} @ {self.hub_id}: {self.status}"

    @transition(field=status, source=PickJobStatus.PENDING, target=PickJobStatus.PICKING)
    def claim(self, *, picker_id: int) -> None:
        self.picker_id = picker_id
        self.claimed_at = dj_timezone.now()

    @transition(field=status, source=PickJobStatus.PICKING, target=PickJobStatus.PACKED)
    def pack(self, *, bags: int) -> None:
        self.bags = bags
        self.packed_at = dj_timezone.now()

    @transition(
        field=status,
        source=[PickJobStatus.PENDING, PickJobStatus.PICKING, PickJobStatus.PACKED],
        target=PickJobStatus.CANCELLED,
    )
    def cancel(self, *, reason: str) -> None:
        self.cancelled_at = dj_timezone.now()
        self.end_reason = reason

    @transition(field=status, source=PickJobStatus.PACKED, target=PickJobStatus.RETURNED)
    def goods_returned(self, *, reason: str) -> None:
        self.returned_at = dj_timezone.now()
        self.end_reason = reason


class PickLineStatus(models.TextChoices):
    """What the picker took for one line."""

    PENDING = "pending"
    PICKED = "picked"  # the full quantity
    SHORT = "short"  # part of it, no substitute
    SUBSTITUTED = "substituted"  # short, made up with the allowed substitute
    MISSING = "missing"  # none of it and no substitute


class PickJobLine(models.Model):
    """One ordered product on a pick list, with what the picker actually took."""

    job = models.ForeignKey(PickJob, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    aisle = models.CharField(max_length=16, blank=True, default="")
    bin = models.CharField(max_length=16, blank=True, default="")
    substitute_sku = models.CharField(max_length=64, blank=True, default="")
    substitute_product_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=PickLineStatus.choices, default=PickLineStatus.PENDING
    )
    picked_quantity = models.PositiveIntegerField(null=True, blank=True)
    substitute_quantity = models.PositiveIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The customer rejected the substitute: it went back on the shelf at this time.
    substitute_returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["aisle", "bin", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["job", "sku"], name="pick_line_once_per_sku"),
            models.CheckConstraint(
                condition=Q(picked_quantity__isnull=True) | Q(picked_quantity__lte=F("quantity")),
                name="pick_line_not_over_picked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku} ({self.status})"
