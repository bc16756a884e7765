"""The edge's periodic task: automatic load shedding (prime_now/shedding.py)."""

from celery import shared_task

from . import shedding


@shared_task(name="kernel.shed_load")
def shed_load() -> list[str]:
    return shedding.shed_load()
