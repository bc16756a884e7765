"""Start a real web server process (gunicorn) on the test database, as another process would
serve the API in production."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

from tests.kernel.worker import wait_for

ROOT = Path(__file__).resolve().parents[2]


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a project process on this test's database and cache."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "prime_now.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CACHE_KEY_PREFIX": settings.CACHE_KEY_PREFIX,
        "REDIS_CACHE_DB": "14",
        "PRIME_NOW_RUN_DIR": str(ROOT / ".run" / f"server-{os.getpid()}"),
        **extra,
    }
    if settings.USING_REDIS:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def web_server(**extra_env: str) -> Iterator[str]:
    """A gunicorn process serving the project; yields its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "prime_now.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--threads", "1", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=process_env(**extra_env), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=10).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            return False  # not listening yet, or still loading the project (a busy machine)

    try:
        if not wait_for(answers, timeout=30):
            process.terminate()
            raise RuntimeError(f"the web server did not start:\n{process.communicate()[0]}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
