"""The newcomer's path: no DATABASE_URL, no REDIS_URL. The embedded PostgreSQL server (started
by the first process, shared by the others) and kombu's filesystem broker carry an event from a
web process to a real worker process."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.kernel.worker import wait_for

ROOT = Path(__file__).resolve().parents[2]
SERVER_VARS = ("DATABASE_URL", "REDIS_URL")


def embedded_env(run_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SERVER_VARS}
    env.update(DJANGO_SETTINGS_MODULE="prime_now.settings", PRIME_NOW_RUN_DIR=str(run_dir))
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def probe_handled(env: dict[str, str], probe: str) -> bool:
    result = manage(
        env,
        "shell",
        "-c",
        f"from tests.kernel.outbox_probe import handled; print(handled({probe!r}))",
    )
    return result.stdout.strip().splitlines()[-1:] == ["1"]


@pytest.mark.slow
def test_an_outbox_event_reaches_a_real_worker_on_the_embedded_defaults(embedded_run_dir):
    env = embedded_env(embedded_run_dir)
    manage(env, "migrate", "--noinput", "-v0")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "prime_now", "worker", "--pool", "solo",
         "--without-mingle", "--without-gossip", "--without-heartbeat",
         "-Q", "default,kernel", "--include", "tests.kernel.outbox_probe", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    probe = uuid.uuid4().hex[:12]
    try:
        manage(
            env,
            "shell",
            "-c",
            "from django.db import transaction; from prime_now.kernel import bus; "
            "from tests.kernel.outbox_probe import ProbePinged\n"
            f"with transaction.atomic(): bus.publish(ProbePinged(probe_id={probe!r}))",
        )
        delivered = wait_for(lambda: probe_handled(env, probe), timeout=60, interval=1)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
    assert delivered, output[-4000:]


def test_a_worker_on_the_file_broker_looks_for_tasks_twenty_times_a_second(embedded_run_dir):
    # Given the embedded defaults (kombu's filesystem broker), when a process connects to it,
    # then kombu polls every 0.05 s, not its default second (a worker ran 2 tasks a second)
    result = manage(
        embedded_env(embedded_run_dir),
        "shell",
        "-c",
        "from prime_now.celery import app\n"
        "with app.connection_for_read() as c: print(c.transport.polling_interval)",
    )

    assert result.stdout.strip().splitlines()[-1] == "0.05"
