"""The statuses of an order and of its payment: stored by the models, published in events and
exported through the door (ordering.services), so they cross as enums, never as strings."""

from django.db import models


class OrderStatus(models.TextChoices):
    """An order's status; only ordering's status changes move it."""

    PLACED = "placed", "Placed"
    PICKING = "picking", "Picking"
    PACKED = "packed", "Packed"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    DELIVERY_FAILED = "delivery_failed", "Delivery failed"
    REFUNDED = "refunded", "Refunded"


# The customer may cancel until the order leaves the hub.
CANCELLABLE = (OrderStatus.PLACED, OrderStatus.PICKING, OrderStatus.PACKED)


class PaymentStatus(models.TextChoices):
    """Where the order's payment stands at the provider."""

    AUTHORIZED = "authorized", "Authorized"
    CAPTURED = "captured", "Captured"
    VOIDED = "voided", "Voided"
    REFUNDED = "refunded", "Refunded"


class SubstitutionChoice(models.TextChoices):
    """What the customer wants when the hub cannot find an item."""

    BEST_MATCH = "best_match", "Best match"
    SPECIFIC = "specific", "A substitute I choose"
    NONE = "none", "No substitute"


class SubstituteDecision(models.TextChoices):
    """The customer's answer to a picker's substitute (until the courier leaves the hub)."""

    PROPOSED = "proposed", "Waiting for your answer"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class ProblemKind(models.TextChoices):
    """What went wrong with a delivered item."""

    MISSING = "missing", "Missing"
    DAMAGED = "damaged", "Damaged"
    WRONG = "wrong", "Wrong item"


class ProblemStatus(models.TextChoices):
    """Where a reported problem stands: refunded at once (small amounts), waiting for support,
    or decided by support."""

    REFUNDED = "refunded", "Refunded"
    AWAITING_SUPPORT = "awaiting_support", "Waiting for support"
    REJECTED = "rejected", "Rejected by support"
