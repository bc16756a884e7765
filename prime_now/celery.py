"""The Celery app. Apps declare tasks with @shared_task and never import this module."""

import logging
import os

from celery import Celery, signals
from django.db import close_old_connections, connections
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")

logger = logging.getLogger(__name__)

# Every task counts its deliveries and is dead-lettered when its worker keeps dying with it.
app = Celery("prime_now", task_cls="prime_now.kernel.deadletters:CountedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each task's log lines carry the request id (and user) of the request that enqueued it.
app.steps["worker"].add(DjangoStructLogInitStep)


# Celery's Django fix-up opens a new database connection for every task (it closes them
# before and after each one unless CELERY_DB_REUSE_MAX is set): a new PostgreSQL backend per
# task, which cost more CPU than most of our handlers and threw away their prepared
# statements. With CELERY_DB_REUSE_MAX set, tasks keep their connection the way requests do.
@signals.task_prerun.connect
def _check_connections_before_task(sender=None, **kwargs) -> None:
    """As Django does when a request starts: drop a connection past CONN_MAX_AGE, and have
    the next query check that the connection still works (CONN_HEALTH_CHECKS)."""
    if not getattr(sender.request, "is_eager", False):
        close_old_connections()


@signals.task_postrun.connect
def _close_connections_after_failed_task(sender=None, state=None, **kwargs) -> None:
    """A task that did not succeed may have been cut off mid-query (a time limit, an
    error inside the driver): its connection is not trusted with the next task."""
    if state != "SUCCESS" and not getattr(sender.request, "is_eager", False):
        connections.close_all()


# Beat never runs twice: each beat holds a PostgreSQL advisory lock for as long as it lives,
# on a connection of its own; a second beat (a release starting the new one too early, an
# operator's slip) waits for the first to exit before it sends anything.
BEAT_LOCK_KEY = 0x50_4E_42_54  # "PNBT"
_beat_lock_connection = None


@signals.beat_init.connect
def _hold_the_beat_lock(sender=None, **kwargs) -> None:
    global _beat_lock_connection
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    wrapper.set_autocommit(True)
    raw = wrapper.connection
    if not raw.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK_KEY]).fetchone()[0]:
        logger.warning("Another beat is running: waiting for it to stop")
        raw.execute("SELECT pg_advisory_lock(%s)", [BEAT_LOCK_KEY])
    logger.info("Beat holds the beat lock")
    _beat_lock_connection = wrapper
