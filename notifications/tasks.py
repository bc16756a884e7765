from celery import shared_task

from .services import email_send, emails_pending


@shared_task(
    name="notifications.send_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def send_email(*, notification_id: int) -> bool:
    """Send one email notification (idempotent: a sent one is not sent again)."""
    return email_send(notification_id=notification_id)


@shared_task(name="notifications.send_pending_emails")
def send_pending_emails() -> int:
    """Send emails whose first try never ran (a worker died before it): periodic safety net."""
    return sum(email_send(notification_id=pk) for pk in emails_pending())
