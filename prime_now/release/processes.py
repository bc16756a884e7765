"""The processes of one version, started from its checkout and left running on their own.

Each runs in its own session (it outlives the release command), logs to a file under the run
directory and is stopped by its pid: web by SIGTERM (gunicorn finishes the requests it has),
a worker by SIGTERM (Celery's warm shutdown: it stops taking tasks and finishes the ones it
runs; if it has not within the timeout it is killed, and its unacknowledged tasks go back to
the queue, as every task acks late), beat by SIGTERM.
"""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class Build:
    version: str
    checkout: Path


def environment(build: Build, *, run_dir: Path, metrics_token: str) -> dict[str, str]:
    """What every process of `build` gets besides the release command's own environment."""
    metrics_dir = run_dir / "metrics" / build.version
    metrics_dir.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "BUILD_VERSION": build.version,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_TOKEN": metrics_token,
        "PYTHONPATH": str(build.checkout),
        # One broker directory, cache and embedded database for every version (when those
        # are not servers named in the environment).
        "PRIME_NOW_RUN_DIR": os.environ.get("PRIME_NOW_RUN_DIR", str(settings.RUN_DIR)),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def spawn(build: Build, name: str, argv: list[str], *, run_dir: Path, token: str) -> int:
    log_path = run_dir / "logs" / f"{build.version}-{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, *argv],
            cwd=build.checkout,
            env=environment(build, run_dir=run_dir, metrics_token=token),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return process.pid


def start_web(build: Build, *, port: int, run_dir: Path, token: str, workers: int) -> int:
    return spawn(
        build,
        f"web-{port}",
        ["-m", "gunicorn", "prime_now.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--graceful-timeout", "30", "--access-logfile", "-"],
        run_dir=run_dir, token=token,
    )  # fmt: skip


def start_worker(build: Build, *, run_dir: Path, token: str, concurrency: int) -> int:
    return spawn(
        build,
        "worker",
        ["-m", "celery", "-A", "prime_now", "worker", "-Q",
         ",".join(settings.CELERY_TASK_QUEUES_ALL), "--concurrency", str(concurrency),
         "-n", f"{build.version}@%h", "--without-gossip", "--without-mingle",
         "--loglevel", "INFO"],
        run_dir=run_dir, token=token,
    )  # fmt: skip


def start_beat(build: Build, *, run_dir: Path, token: str) -> int:
    return spawn(
        build,
        "beat",
        ["-m", "celery", "-A", "prime_now", "beat", "--schedule",
         str(run_dir / "celerybeat-schedule"), "--loglevel", "INFO"],
        run_dir=run_dir, token=token,
    )  # fmt: skip


def alive(pid: int | None) -> bool:
    """The process runs, and is one of a build's (its working directory is a checkout under
    `builds/`): a pid recorded long ago may belong to someone else by now."""
    if not pid:
        return False
    try:
        # A child of this process that exited stays a zombie until reaped.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: started by an earlier release command
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).parent.name == "builds"
    except OSError:
        return False


def stop(pid: int | None, *, timeout: float) -> bool:
    """SIGTERM, then SIGKILL (to its process group) after `timeout` seconds. True when it
    exited by itself."""
    return stop_all([pid], timeout=timeout)[0]


def stop_all(pids: list[int | None], *, timeout: float) -> list[bool]:
    """`stop` for several processes at once: each gets SIGTERM, then all are waited for."""
    for pid in pids:
        if pid and alive(pid):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    exited = []
    for pid in pids:
        exited.append(not alive(pid))
        if pid and not exited[-1]:
            os.killpg(pid, signal.SIGKILL)
    return exited
