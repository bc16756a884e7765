"""Beat never runs twice: a second beat waits for the first one's lock before it sends a task."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.kernel.worker import wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def start_beat(run_dir: Path) -> tuple[subprocess.Popen, Path]:
    db = connection.settings_dict
    run_dir.mkdir()
    log = run_dir / "beat.log"
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},  # the filesystem broker
        "DJANGO_SETTINGS_MODULE": "prime_now.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PRIME_NOW_RUN_DIR": str(run_dir),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "prime_now", "beat", "--loglevel", "INFO",
             "--schedule", str(run_dir / "schedule")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return process, log


def test_a_second_beat_waits_until_the_first_has_stopped(tmp_path):
    first, first_log = start_beat(tmp_path / "first")
    second = None
    try:
        assert wait_for(lambda: "holds the beat lock" in first_log.read_text(), timeout=60)
        second, second_log = start_beat(tmp_path / "second")
        assert wait_for(lambda: "Another beat is running" in second_log.read_text(), timeout=60)
        assert "holds the beat lock" not in second_log.read_text()

        first.terminate()
        first.wait(timeout=30)
        assert wait_for(lambda: "holds the beat lock" in second_log.read_text(), timeout=30)
    finally:
        for process in (first, second):
            if process:
                process.kill()
                process.wait()
