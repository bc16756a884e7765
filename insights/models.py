"""One row per checkout attempt, followed to its end: the funnel and the drop rate read it.

Only insights' handlers write it, from the facts the other apps publish."""

from django.db import models
from django.db.models import Q


class Stage(models.TextChoices):
    """How far an attempt got (the funnel's steps, in order)."""

    CHECKOUT = "checkout", "Checkout"
    PLACED = "placed", "Placed"
    PICKING = "picking", "Picking"
    PACKED = "packed", "Packed"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"


class Outcome(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DELIVERED = "delivered", "Delivered on time"
    DROPPED = "dropped", "Dropped"


class Attempt(models.Model):
    """A checkout attempt with a well-formed basket: refused at once, or an order followed
    until delivered within its window (kept) or dropped (one coded reason, one stage)."""

    reference = models.CharField(
        max_length=100, unique=True, help_text="The order number, or checkout:<id>:<attempt>."
    )
    hub_code = models.CharField(max_length=50, blank=True)
    attempted_at = models.DateTimeField()
    order_number = models.CharField(max_length=40, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.CHECKOUT)
    placed_at = models.DateTimeField(null=True, blank=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    out_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.IN_PROGRESS)
    drop_reason = models.CharField(max_length=50, blank=True)
    drop_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["attempted_at", "hub_code"], name="attempt_hour_hub_idx"),
            models.Index(
                fields=["window_end"],
                condition=Q(outcome="in_progress"),
                name="attempt_open_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(outcome="dropped") & ~Q(drop_reason="") & ~Q(drop_stage="")
                    | ~Q(outcome="dropped") & Q(drop_reason="", drop_stage="")
                ),
                name="attempt_dropped_has_one_reason",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.reference} ({self.outcome}{' ' + self.drop_reason if self.drop_reason else ''})"
        )
