"""Couriers, blocks, delivery jobs, offers, trips and location pings.

The invariants that must hold under concurrency live in the database: a block is never claimed
beyond what was wanted, a courier holds at most one open trip and one directed offer at a time,
a job has at most one offer out at a time and never more than one accepted offer.
State changes go through the services in `delivery/transport/`; the transitions are declared
here (django-fsm) so a step out of order is refused before anything is written.
"""

import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import FSMField, transition

from prime_now.kernel.money import MoneyField

__all__ = [
    "Block",
    "BlockClaim",
    "ProofImage",
    "TripEarning",
    "CourierProfile",
    "DeliveryJob",
    "JobStatus",
    "Offer",
    "OfferStatus",
    "Trip",
    "TripStatus",
    "Vehicle",
    "vehicle_speed_kmh",
]


class Vehicle(models.TextChoices):
    BICYCLE = "bicycle", "Bicycle"
    EBIKE = "ebike", "E-bike"
    SCOOTER = "scooter", "Scooter"
    CAR = "car", "Car"


# A courier in city traffic when nothing better is known (no vehicle, no reported speed).
TYPICAL_SPEED_KMH = 18.0
# Typical urban door-to-door speeds, used for ETAs when a courier reports no speed.
VEHICLE_SPEED_KMH: dict[str, float] = {
    Vehicle.BICYCLE: 14.0,
    Vehicle.EBIKE: 18.0,
    Vehicle.SCOOTER: 25.0,
    Vehicle.CAR: 22.0,
}


def vehicle_speed_kmh(vehicle: str) -> float:
    return VEHICLE_SPEED_KMH.get(vehicle, TYPICAL_SPEED_KMH)


class CourierProfile(models.Model):
    """A courier user's working profile and live state (online, last known position)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courier_profile"
    )
    vehicle = models.CharField(max_length=16, choices=Vehicle.choices, default=Vehicle.EBIKE)
    bag_capacity = models.PositiveSmallIntegerField(default=4)
    home_hub_code = models.CharField(max_length=32, db_index=True)
    other_hub_codes = ArrayField(
        models.CharField(max_length=32),
        blank=True,
        default=list,
        db_default=[],
        help_text="Hubs the courier also works for, besides the home hub (comma-separated "
        "codes). A courier claims blocks only at the hubs they work for.",
    )
    rating = models.DecimalField(max_digits=3, decimal_places=2, default=5)
    online = models.BooleanField(default=False)
    online_changed_at = models.DateTimeField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    speed_kmh = models.FloatField(null=True, blank=True)
    located_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(bag_capacity__gte=1) & Q(bag_capacity__lte=20),
                name="courier_bag_capacity_range",
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=0) & Q(rating__lte=5), name="courier_rating_range"
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lon__isnull=True))
                | (Q(lat__gte=-90) & Q(lat__lte=90) & Q(lon__gte=-180) & Q(lon__lte=180)),
                name="courier_position_valid",
            ),
        ]
        indexes = [models.Index(fields=["online", "located_at"], name="courier_online_idx")]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.home_hub_code})"

    @property
    def hub_codes(self) -> tuple[str, ...]:
        """The hubs this courier works for: the home hub first."""
        return (self.home_hub_code, *(c for c in self.other_hub_codes if c != self.home_hub_code))

    def works_for(self, hub_code: str) -> bool:
        return hub_code in self.hub_codes


class Block(models.Model):
    """A Flex-style shift an operator publishes: this hub wants `wanted` couriers then."""

    hub_code = models.CharField(max_length=32)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    wanted = models.PositiveSmallIntegerField()
    claimed = models.PositiveSmallIntegerField(default=0)
    base_pay = MoneyField(
        default=Decimal("6.00"),
        db_default=Decimal("6.00"),
        help_text="Paid for each trip delivered on this block.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "hub_code"]
        constraints = [
            models.CheckConstraint(condition=Q(wanted__gte=1), name="block_wanted_positive"),
            models.CheckConstraint(condition=Q(base_pay__gte=0), name="block_base_pay_nonneg"),
            models.CheckConstraint(
                condition=Q(claimed__lte=F("wanted")), name="block_not_overclaimed"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="block_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["hub_code", "starts_at"], name="block_hub_start_idx")]

    def __str__(self) -> str:
        return f"{self.hub_code} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class BlockClaim(models.Model):
    class Status(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        FORFEITED = "forfeited", "Forfeited"

    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="claims")
    courier = models.ForeignKey(CourierProfile, on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CLAIMED)
    claimed_at = models.DateTimeField(default=timezone.now)
    forfeited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["block", "courier"],
                condition=Q(status="claimed"),
                name="block_claim_once_per_courier",
            )
        ]

    def __str__(self) -> str:
        return f"{self.courier} on {self.block} ({self.status})"


class TripStatus(models.TextChoices):
    ACCEPTED = "accepted", "Heading to the hub"
    AT_HUB = "at_hub", "At the hub"
    ON_ROUTE = "on_route", "On the way"
    COMPLETED = "completed", "Completed"


OPEN_TRIP_STATUSES = (TripStatus.ACCEPTED, TripStatus.AT_HUB, TripStatus.ON_ROUTE)
# A trip can take more jobs until its bags leave the hub.
BATCHABLE_TRIP_STATUSES = (TripStatus.ACCEPTED, TripStatus.AT_HUB)


class Trip(models.Model):
    """One courier's run: from the hub through one or more drop-offs (a batch)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    courier = models.ForeignKey(CourierProfile, on_delete=models.PROTECT, related_name="trips")
    hub_code = models.CharField(max_length=32)
    status = FSMField(max_length=16, choices=TripStatus.choices, default=TripStatus.ACCEPTED)
    bags = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    arrived_at_hub_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["courier"],
                condition=Q(status__in=["accepted", "at_hub", "on_route"]),
                name="trip_one_open_per_courier",
            )
        ]

    def __str__(self) -> str:
        return f"trip {str(self.id)[:8]} ({self.status})"

    @transition(field=status, source=TripStatus.ACCEPTED, target=TripStatus.AT_HUB)
    def arrive_at_hub(self) -> None:
        self.arrived_at_hub_at = timezone.now()

    @transition(field=status, source=TripStatus.AT_HUB, target=TripStatus.ON_ROUTE)
    def pick_up(self) -> None:
        self.picked_up_at = timezone.now()

    @transition(field=status, source=OPEN_TRIP_STATUSES, target=TripStatus.COMPLETED)
    def complete(self) -> None:
        self.completed_at = timezone.now()


class JobStatus(models.TextChoices):
    """Where a delivery job stands, from waiting for a courier to delivered, failed or cancelled."""

    PENDING = "pending", "Waiting for a courier"
    OFFERED = "offered", "Offered"
    ASSIGNED = "assigned", "Assigned"
    PICKED_UP = "picked_up", "Picked up"
    ON_THE_WAY = "on_the_way", "On the way"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Delivery failed"
    CANCELLED = "cancelled", "Cancelled"


UNASSIGNED_JOB_STATUSES = (JobStatus.PENDING, JobStatus.OFFERED)
# A courier has the job: on their trip, from accepting it to the door.
ASSIGNED_JOB_STATUSES = (JobStatus.ASSIGNED, JobStatus.PICKED_UP, JobStatus.ON_THE_WAY)
LIVE_JOB_STATUSES = UNASSIGNED_JOB_STATUSES + ASSIGNED_JOB_STATUSES
FINAL_JOB_STATUSES = (JobStatus.DELIVERED, JobStatus.FAILED, JobStatus.CANCELLED)


class DeliveryJob(models.Model):
    """Taking one packed order from its hub to its door. The order and window are referenced
    by value (number, id) with the snapshot dispatch needs."""

    class ProofKind(models.TextChoices):
        PHOTO = "photo", "Photo"
        SIGNATURE = "signature", "Signature"

    class FailureReason(models.TextChoices):
        CUSTOMER_UNAVAILABLE = "customer_unavailable", "Customer unavailable"
        ADDRESS_NOT_FOUND = "address_not_found", "Address not found"
        AGE_CHECK_FAILED = "age_check_failed", "Age check failed"
        REFUSED = "refused", "Refused by the customer"
        DAMAGED = "damaged", "Goods damaged"
        UNSAFE = "unsafe", "Unsafe to deliver"
        OTHER = "other", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_number = models.CharField(max_length=32, unique=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    hub_code = models.CharField(max_length=32)
    window_id = models.BigIntegerField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    address = models.CharField(max_length=300)
    postcode = models.CharField(max_length=16, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    bags = models.PositiveSmallIntegerField(default=1)
    age_restricted = models.BooleanField(default=False)
    # The customer's tip (a snapshot of the order's): the courier's, per delivered trip.
    tip = MoneyField(default=Decimal("0.00"), db_default=Decimal("0.00"))

    status = FSMField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    courier = models.ForeignKey(
        CourierProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    trip = models.ForeignKey(
        Trip,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
        db_index=False,  # job_trip_status_idx leads with it
    )
    stop_sequence = models.PositiveSmallIntegerField(null=True, blank=True)

    misses = models.PositiveIntegerField(default=0)
    broadcast = models.BooleanField(default=False)
    flagged_at = models.DateTimeField(null=True, blank=True)
    flag_reason = models.CharField(max_length=32, blank=True)
    at_risk = models.BooleanField(default=False)
    eta = models.DateTimeField(null=True, blank=True)
    last_offer_attempt_at = models.DateTimeField(null=True, blank=True)

    packed_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=32, choices=FailureReason.choices, blank=True)
    failure_note = models.CharField(max_length=300, blank=True)
    proof_kind = models.CharField(max_length=16, choices=ProofKind.choices, blank=True)
    proof_reference = models.CharField(max_length=200, blank=True)
    delivered_lat = models.FloatField(null=True, blank=True)
    delivered_lon = models.FloatField(null=True, blank=True)
    delivered_distance_m = models.FloatField(null=True, blank=True)
    age_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["window_end", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(bags__gte=1), name="job_bags_positive"),
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="job_window_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "offered", "cancelled"])
                | Q(courier__isnull=False),
                name="job_assigned_has_courier",
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered")
                | (Q(proof_reference__gt="") & Q(delivered_at__isnull=False)),
                name="job_delivered_has_proof",
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(age_restricted=False) | Q(age_verified=True),
                name="job_age_checked_on_delivery",
            ),
        ]
        indexes = [
            models.Index(fields=["hub_code", "status"], name="job_hub_status_idx"),
            models.Index(fields=["status", "window_end"], name="job_status_window_idx"),
            # A trip's live stops (status and trip both in the index): with the trip alone,
            # stale statistics had PostgreSQL walk every assigned job by status instead.
            models.Index(fields=["trip", "status"], name="job_trip_status_idx"),
            models.Index(
                fields=["flagged_at"], condition=Q(flagged_at__isnull=False), name="job_flagged_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.order_number} ({self.status})"

    @transition(field=status, source=JobStatus.ASSIGNED, target=JobStatus.PICKED_UP)
    def pick_up(self) -> None:
        self.picked_up_at = timezone.now()

    @transition(field=status, source=JobStatus.PICKED_UP, target=JobStatus.ON_THE_WAY)
    def head_out(self) -> None:
        pass

    @transition(field=status, source=JobStatus.ON_THE_WAY, target=JobStatus.DELIVERED)
    def deliver(self) -> None:
        self.delivered_at = timezone.now()
        self.eta = None

    @transition(
        field=status,
        source=ASSIGNED_JOB_STATUSES,
        target=JobStatus.FAILED,
    )
    def fail(self) -> None:
        self.failed_at = timezone.now()
        self.eta = None

    @transition(
        field=status,
        source=(JobStatus.PENDING, JobStatus.OFFERED, JobStatus.ASSIGNED),
        target=JobStatus.CANCELLED,
    )
    def cancel(self) -> None:
        self.eta = None


class OfferStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Offer(models.Model):
    """A job offered to one courier until `expires_at`. Directed offers go one at a time;
    broadcast offers (a job no one took) go to every eligible courier, first to accept wins."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(DeliveryJob, on_delete=models.CASCADE, related_name="offers")
    courier = models.ForeignKey(CourierProfile, on_delete=models.PROTECT, related_name="offers")
    status = models.CharField(
        max_length=16, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    broadcast = models.BooleanField(default=False)
    distance_km = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job"], condition=Q(status="accepted"), name="offer_one_accepted_per_job"
            ),
            models.UniqueConstraint(
                fields=["job"],
                condition=Q(status="pending", broadcast=False),
                name="offer_one_directed_pending_per_job",
            ),
            models.UniqueConstraint(
                fields=["courier"],
                condition=Q(status="pending", broadcast=False),
                name="offer_one_directed_pending_per_courier",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="offer_expires_after_created"
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="pending"), name="offer_pending_exp_idx"
            ),
            models.Index(fields=["courier", "status"], name="offer_courier_status_idx"),
            # Ranking reads each candidate's latest offer (fair rotation): one index entry
            # per courier instead of sorting every offer the courier ever had.
            models.Index(fields=["courier", "-created_at"], name="offer_courier_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"offer {str(self.id)[:8]} to {self.courier_id} ({self.status})"


class TripEarning(models.Model):
    """What a courier earned for one trip with at least one delivery: the block's base pay plus
    the tips of the orders delivered. Written once, when the trip completes."""

    trip = models.OneToOneField(Trip, on_delete=models.PROTECT, related_name="earning")
    courier = models.ForeignKey(CourierProfile, on_delete=models.PROTECT, related_name="earnings")
    block = models.ForeignKey(
        Block, null=True, blank=True, on_delete=models.SET_NULL, related_name="earnings"
    )
    deliveries = models.PositiveSmallIntegerField()
    base_pay = MoneyField()
    tips = MoneyField()
    total = MoneyField()
    earned_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-earned_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(base_pay__gte=0) & Q(tips__gte=0) & Q(total=F("base_pay") + F("tips")),
                name="earning_total_adds_up",
            ),
            models.CheckConstraint(condition=Q(deliveries__gte=1), name="earning_has_delivery"),
        ]
        indexes = [models.Index(fields=["courier", "earned_at"], name="earning_courier_time")]

    def __str__(self) -> str:
        return f"{self.courier_id}: {self.total} for trip {self.trip_id}"


def proof_path(instance: "ProofImage", filename: str) -> str:
    return f"proofs/{instance.job.order_number}/{instance.pk}{Path(filename).suffix.lower()}"


class ProofImage(models.Model):
    """A photo of the bags at the door, or the customer's signature: checked to be a JPEG or
    PNG image, stored through Django's storage, shown only to staff and the customer."""

    class Kind(models.TextChoices):
        PHOTO = "photo", "Photo"
        SIGNATURE = "signature", "Signature"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(DeliveryJob, on_delete=models.PROTECT, related_name="proof_images")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    image = models.FileField(upload_to=proof_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["image/jpeg", "image/png"]),
                name="proof_is_jpeg_or_png",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.job_id}"
