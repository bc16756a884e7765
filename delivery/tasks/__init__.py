"""Celery finds `delivery.tasks`; the tasks live in facade.py and dispatch.py."""

from . import dispatch, facade  # noqa: F401
