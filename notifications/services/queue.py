"""Emails go out from a task after commit. The services sit below the entry points, so they look
the task up by its registered name (`notifications.tasks` is imported at start-up)."""

from celery import current_app

SEND_EMAIL = "notifications.send_email"


def enqueue_email(notification_id: int) -> None:
    """Queue one email (called after commit; with CELERY_TASK_ALWAYS_EAGER it runs now)."""
    current_app.tasks[SEND_EMAIL].delay(notification_id=notification_id)
