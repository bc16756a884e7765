"""The worker-killed game day: `kill_worker` kills a whole Celery worker of this checkout (main
process and pool), and `ops/keep-running` (the Procfile's supervisor for the worker and beat)
starts it again, so honcho does not stop the stack. A stand-in worker plays Celery here: a
program named `celery`, run with `worker` in its arguments, that forks one pool process."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prime_now.gameday.runner import Actions, _worker_processes

ROOT = Path(__file__).resolve().parents[2]
KEEP_RUNNING = ROOT / "ops" / "keep-running"
FAKE_CELERY = """\
import os, time
os.fork()  # the pool process
time.sleep(120)
"""

pytestmark = pytest.mark.slow


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in {"Z", "X"}  # dead, not yet reaped by whoever inherited it


def _wait_for(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    return condition()


@pytest.fixture
def supervised_worker(tmp_path, settings):
    """A stand-in worker under ops/keep-running, in a checkout of its own (tmp_path)."""
    settings.BASE_DIR = tmp_path
    (tmp_path / "celery").write_text(FAKE_CELERY)
    loop = subprocess.Popen(
        ["/bin/sh", str(KEEP_RUNNING), sys.executable, str(tmp_path / "celery"), "worker"],
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield loop
    if loop.poll() is None:
        os.killpg(loop.pid, signal.SIGKILL)
        loop.wait()


def test_kill_worker_kills_the_main_process_and_its_pool_not_the_shell(supervised_worker):
    (main, pool), *_ = _wait_for(lambda: [(m, p) for m, p in _worker_processes().items() if p])
    notes: list[str] = []

    Actions(None, notes).start_kill_worker()

    assert _wait_for(lambda: _gone(main) and all(_gone(p) for p in pool))
    assert supervised_worker.poll() is None  # the supervising shell was not a target
    assert notes == [f"kill_worker: SIGKILL to worker {main} and its pool {pool}"]


def test_keep_running_starts_a_killed_worker_again(supervised_worker):
    (main, _), *_ = _wait_for(lambda: [(m, p) for m, p in _worker_processes().items() if p])
    notes: list[str] = []
    actions = Actions(None, notes)

    actions.start_kill_worker()
    restarted = _wait_for(lambda: [m for m in _worker_processes() if m != main])
    actions.check_restarted()

    assert restarted
    assert notes[-1] == f"kill_worker: worker running again as {restarted}"


def test_keep_running_stops_for_good_on_sigterm(supervised_worker):
    (main, _), *_ = _wait_for(lambda: [(m, p) for m, p in _worker_processes().items() if p])

    os.killpg(supervised_worker.pid, signal.SIGTERM)  # what honcho does on Ctrl-C

    supervised_worker.wait(timeout=10)
    time.sleep(1.5)  # longer than the loop's pause before a restart
    assert _worker_processes() == {}


def test_with_no_worker_running_kill_worker_says_so(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    notes: list[str] = []
    actions = Actions(None, notes)

    actions.start_kill_worker()
    actions.check_restarted()

    assert notes == ["kill_worker: no Celery worker of this checkout is running"]
