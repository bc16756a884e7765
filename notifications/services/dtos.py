"""The values and errors that cross the notifications door."""

from dataclasses import dataclass
from datetime import datetime

from prime_now.kernel.errors import NotFoundError

from ..kinds import Channel, NotificationKind


@dataclass(frozen=True)
class NotificationDTO:
    """One message in a customer's in-app list."""

    id: int
    kind: NotificationKind
    title: str
    body: str
    order_number: str
    created_at: datetime
    read: bool


@dataclass(frozen=True)
class PreferenceDTO:
    """Email on or off, and the kinds not wanted by email (the in-app list has everything)."""

    email: bool
    email_muted: tuple[NotificationKind, ...]


@dataclass(frozen=True)
class Message:
    """What to tell one customer about one fact; `key` makes it one message per channel."""

    user_id: int
    kind: NotificationKind
    key: str
    title: str
    body: str
    order_number: str = ""


class NotificationNotFoundError(NotFoundError):
    code = "notification_not_found"
    default_message = "Notification not found."


__all__ = ["Channel", "Message", "NotificationDTO", "NotificationNotFoundError", "PreferenceDTO"]
