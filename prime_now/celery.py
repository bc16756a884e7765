"""The Celery app. Apps declare tasks with @shared_task and never import this module."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")

app = Celery("prime_now")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
