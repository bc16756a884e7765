"""What a notification is about and how it reaches the customer (stored, and crossing the door
as enums)."""

from django.db import models


class NotificationKind(models.TextChoices):
    ORDER_PLACED = "order_placed", "Order placed"
    SUBSTITUTES_PROPOSED = "substitutes_proposed", "Substitutes to check"
    PACKED = "packed", "Packed"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    RUNNING_LATE = "running_late", "Running late"
    DELIVERY_FAILED = "delivery_failed", "Delivery failed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    IN_APP = "in_app", "In the app"
