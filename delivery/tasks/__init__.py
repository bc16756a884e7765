"""Celery finds `delivery.tasks`; the tasks live in facade.py and transport.py."""

from . import facade, transport  # noqa: F401
