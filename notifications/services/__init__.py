"""notifications door: what the edge (storefront, API) may call (see docs/doors.md).

The app subscribes to the other apps' facts (handlers.py) and tells the customer: in the app
always, by email unless their preferences say not to. It publishes no events.
"""

from ..kinds import Channel, NotificationKind
from .dtos import Message, NotificationDTO, NotificationNotFoundError, PreferenceDTO
from .inbox import (
    notifications_for,
    notifications_mark_read,
    notifications_unread,
    preferences_get,
    preferences_set,
)
from .sending import email_send, emails_pending, notify

__all__ = [
    "Channel",
    "Message",
    "NotificationDTO",
    "NotificationKind",
    "NotificationNotFoundError",
    "PreferenceDTO",
    "email_send",
    "emails_pending",
    "notifications_for",
    "notifications_mark_read",
    "notifications_unread",
    "notify",
    "preferences_get",
    "preferences_set",
]
