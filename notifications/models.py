"""Notifications: one row per (customer, event, channel), so a fact redelivered by the bus is
never told twice; and each customer's preferences."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .kinds import Channel, NotificationKind


class Notification(models.Model):
    """A message to a customer: in the app (read_at once seen) or by email (sent_at once the
    backend took it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # What makes it one message: the order and what happened to it ("PN-AB12-CD34:packed").
    key = models.CharField(max_length=120)
    order_number = models.CharField(max_length=16, blank=True, db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key", "channel"], name="notification_once_per_event_and_channel"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="notification_channel_known"
            ),
            models.CheckConstraint(
                condition=Q(channel=Channel.IN_APP) | Q(read_at__isnull=True),
                name="notification_only_in_app_is_read",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "channel", "-id"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.key} to {self.user_id}"


class Preference(models.Model):
    """A customer's choices: email on or off, and the kinds they do not want by email. The
    in-app list always has everything (it is the order's history, not a nudge)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(default=True)
    email_muted = ArrayField(
        models.CharField(max_length=30, choices=NotificationKind.choices), default=list, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"
