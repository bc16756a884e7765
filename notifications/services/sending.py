"""Telling a customer: the in-app row always, the email row when their preferences allow, each
at most once per (customer, key, channel); the email goes out after commit, from a task."""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from ..kinds import Channel
from ..models import Notification, Preference
from .dtos import Message
from .queue import enqueue_email

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 10


def notify(*, message: Message) -> list[int]:
    """Record the message on each channel the customer gets, once per (customer, key,
    channel): a fact told again adds nothing. Returns the ids of its email rows still to send,
    which are queued after commit."""
    user_id = message.user_id
    channels = [Channel.IN_APP]
    if wants_email(user_id, message):
        channels.append(Channel.EMAIL)
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=user_id,
                kind=message.kind,
                channel=channel,
                key=message.key[:120],
                order_number=message.order_number,
                title=message.title[:200],
                body=message.body,
            )
            for channel in channels
        ],
        ignore_conflicts=True,
    )
    # With ignore_conflicts the ids of new rows are not returned: read back the unsent emails.
    email_ids = list(
        Notification.objects.filter(
            user_id=user_id, key=message.key[:120], channel=Channel.EMAIL, sent_at__isnull=True
        ).values_list("id", flat=True)
    )
    for notification_id in email_ids:
        transaction.on_commit(partial(enqueue_email, notification_id))
    return email_ids


def wants_email(user_id: int, message: Message) -> bool:
    preference = Preference.objects.filter(user_id=user_id).first()
    if preference is None:
        return True
    return preference.email and message.kind not in preference.email_muted


def email_send(*, notification_id: int) -> bool:
    """Send one email notification through Django's email backend, once: the row is locked and
    marked sent in the same transaction. False when it was already sent, or the customer has
    no email address (recorded as the reason)."""
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update()
            .select_related("user")
            .filter(pk=notification_id, channel=Channel.EMAIL)
            .first()
        )
        if row is None or row.sent_at is not None:
            return False
        row.attempts += 1
        address = row.user.email
        if not address:
            row.last_error = "The customer has no email address."
            row.save(update_fields=["attempts", "last_error"])
            return False
        send_mail(
            subject=row.title,
            message=row.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[address],
        )
        row.sent_at = timezone.now()
        row.last_error = ""
        row.save(update_fields=["attempts", "sent_at", "last_error"])
    logger.info("notification %s emailed (%s)", row.pk, row.key)
    return True


PENDING_AFTER = timedelta(minutes=2)


def emails_pending(*, older_than: timedelta = PENDING_AFTER, limit: int = 500) -> list[int]:
    """Email rows not sent `older_than` after they were made (their task never ran or failed
    for good), oldest first."""
    return list(
        Notification.objects.filter(
            channel=Channel.EMAIL,
            sent_at__isnull=True,
            created_at__lt=timezone.now() - older_than,
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
