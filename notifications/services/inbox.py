"""The customer's side: the in-app list, marking it read, and their preferences."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from ..kinds import Channel, NotificationKind
from ..models import Notification, Preference
from .dtos import NotificationDTO, PreferenceDTO

MAX_PAGE = 100


def _dto(row: Notification) -> NotificationDTO:
    return NotificationDTO(
        id=row.pk,
        kind=NotificationKind(row.kind),
        title=row.title,
        body=row.body,
        order_number=row.order_number,
        created_at=row.created_at,
        read=row.read_at is not None,
    )


def notifications_for(
    *, user_id: int, limit: int = 20, before: int | None = None
) -> tuple[NotificationDTO, ...]:
    """The customer's in-app notifications, newest first; `before`: an id (the last of the
    previous page) to continue from."""
    rows = Notification.objects.filter(user_id=user_id, channel=Channel.IN_APP).order_by("-id")
    if before is not None:
        rows = rows.filter(id__lt=before)
    return tuple(_dto(row) for row in rows[: max(1, min(limit, MAX_PAGE))])


def notifications_unread(*, user_id: int) -> int:
    """How many in-app notifications the customer has not read."""
    return Notification.objects.filter(
        user_id=user_id, channel=Channel.IN_APP, read_at__isnull=True
    ).count()


def notifications_mark_read(*, user_id: int, ids: Iterable[int] | None = None) -> int:
    """Mark the customer's notifications read (all of them when `ids` is None); others' ids are
    ignored. Returns how many changed."""
    rows = Notification.objects.filter(
        user_id=user_id, channel=Channel.IN_APP, read_at__isnull=True
    )
    if ids is not None:
        rows = rows.filter(id__in=list(ids))
    return rows.update(read_at=timezone.now())


def preferences_get(*, user_id: int) -> PreferenceDTO:
    row = Preference.objects.filter(user_id=user_id).first()
    if row is None:
        return PreferenceDTO(email=True, email_muted=())
    return PreferenceDTO(
        email=row.email, email_muted=tuple(NotificationKind(k) for k in row.email_muted)
    )


def preferences_set(
    *, user_id: int, email: bool, email_muted: Iterable[NotificationKind] = ()
) -> PreferenceDTO:
    """Email on or off, and the kinds not wanted by email."""
    muted = sorted({NotificationKind(kind).value for kind in email_muted})
    with transaction.atomic():
        Preference.objects.update_or_create(
            user_id=user_id, defaults={"email": email, "email_muted": muted}
        )
    return preferences_get(user_id=user_id)
