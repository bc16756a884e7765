"""Start a real Celery worker process against the test database and a given Redis broker."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def celery_worker(*, broker_db: int, include: tuple[str, ...] = (), queues: str = "") -> Iterator:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "prime_now.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_BROKER_DB": str(broker_db),
        "CACHE_KEY_PREFIX": settings.CACHE_KEY_PREFIX,
        "REDIS_CACHE_DB": "14",
        "PRIME_NOW_RUN_DIR": str(ROOT / ".run" / f"worker-{os.getpid()}"),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "prime_now", "worker",
        "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle",
        "-Q", queues or ",".join(settings.CELERY_TASK_QUEUES_ALL), "--loglevel", "INFO",
    ]  # fmt: skip
    if include:
        command += ["--include", ",".join(include)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(condition, *, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
