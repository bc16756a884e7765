"""Work transport hands to Celery after its transaction commits.

Transport sits below the entry points, so it never imports `delivery.tasks`: it looks the task
up by its registered name (`delivery.tasks` is imported when Django starts, see
`DeliveryConfig.ready`). With `CELERY_TASK_ALWAYS_EAGER` (tests) the task runs at commit.
"""

from celery import current_app

OFFER_JOB = "delivery.offer_job"


def offer_job_enqueue(*, job_id: str) -> None:
    """Offer the job to its next courier once the current transaction commits."""
    current_app.tasks[OFFER_JOB].delay_on_commit(job_id=job_id)
