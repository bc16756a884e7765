"""The drills' rig: real processes on the test's PostgreSQL database and a Redis server the
drill starts on a spare port (DRILL_PORTS="7100-7199" picks from a range, else any free port):
gunicorn, Celery workers (prefork, as in production), celery beat, management commands."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import redis
import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
QUEUE_NAMES = tuple(settings.CELERY_TASK_QUEUES_ALL)
QUEUES = ",".join(QUEUE_NAMES)
INCLUDE = "tests.drills.probes,tests.kernel.poison_probe"
# What the drills' processes run with: short limits so that a killed worker's task comes
# back in about 35 s instead of production's 75 s (the same mechanism, scaled down), a poison
# event dead-lettered after 3 quick retries, a 5 s slow payment card, and reconciliation every
# 10 s looking at work older than 5 s (production: every minute, past 2 minutes).
DRILL_SETTINGS = {
    "TASK_SOFT_TIME_LIMIT_SECONDS": "15",
    "TASK_TIME_LIMIT_SECONDS": "20",
    "EVENT_MAX_RETRIES": "3",
    "EVENT_RETRY_BACKOFF_MAX_SECONDS": "1",
    "SANDBOX_SLOW_SECONDS": "5",
    "RECONCILE_GRACE_SECONDS": "5",
    "RECONCILE_INTERVAL_SECONDS": "10",
    "LOG_LEVEL": "WARNING",
    # The drills' clients share one address and a few users: the faults are measured, not
    # the request limits (tests/kernel/test_throttling.py tests those).
    "API_THROTTLE_ENABLED": "0",
}


def wait_for(condition: Callable[[], object], *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def spare_port() -> int:
    span = os.environ.get("DRILL_PORTS", "")
    if span:
        low, high = (int(part) for part in span.split("-"))
        for port in range(low, high + 1):
            if _port_free(port):
                return port
        raise RuntimeError(f"no free port in DRILL_PORTS={span}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A Redis server of the drill's own, without persistence (as a cache-and-broker Redis
    often runs: a restart loses what it held)."""

    def __init__(self, workdir: Path) -> None:
        self.port = spare_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=2)

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if not wait_for(self._answers, timeout=10):
            raise RuntimeError("the drill's Redis did not start")

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """Stopped hard: whatever it held is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def process_env(redis_url: str, **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    host = db["HOST"]  # the embedded server's socket directory, or a host name
    where = quote(host, safe="") if host.startswith("/") else f"{host}:{db['PORT']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "prime_now.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{where}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "REDIS_BROKER_DB": "0",
        "REDIS_CACHE_DB": "1",
        "PRIME_NOW_RUN_DIR": str(ROOT / ".run" / f"drills-{os.getpid()}"),
        **DRILL_SETTINGS,
        **extra,
    }


class Process:
    """A project process in its own session (so that it and its children die together), its
    output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}-{time.monotonic_ns()}.log"
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_all(self) -> None:
        """kill -9 the process and every child it has."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill_all()


def start_worker(redis_url: str, logs: Path, *, concurrency: int = 2, **env: str) -> Process:
    worker = Process(
        "worker",
        [sys.executable, "-m", "celery", "-A", "prime_now", "worker", "--pool", "prefork",
         "--concurrency", str(concurrency), "-Q", QUEUES, "--include", INCLUDE,
         "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        process_env(redis_url, DRILL_DIR=str(logs), **env),
        logs,
    )  # fmt: skip
    if not wait_for(lambda: " ready." in worker.output(), timeout=60):
        worker.kill_all()
        raise RuntimeError(f"the worker did not start:\n{worker.output()[-3000:]}")
    return worker


def start_beat(redis_url: str, logs: Path, **env: str) -> Process:
    return Process(
        "beat",
        [sys.executable, "-m", "celery", "-A", "prime_now", "beat", "--loglevel", "INFO",
         "--schedule", str(logs / f"beat-schedule-{time.monotonic_ns()}")],
        process_env(redis_url, **env),
        logs,
    )  # fmt: skip


def start_web(redis_url: str, logs: Path, *, workers: int = 3, **env: str) -> tuple[Process, str]:
    port = spare_port()
    web = Process(
        "web",
        [sys.executable, "-m", "gunicorn", "prime_now.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", "1", "--timeout", "60",
         "--log-level", "warning"],
        process_env(redis_url, **env),
        logs,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    if not wait_for(answers, timeout=60):
        web.kill_all()
        raise RuntimeError(f"the web server did not start:\n{web.output()[-3000:]}")
    return web, url


def run_command(redis_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A management command in a process of its own."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=process_env(redis_url, **env),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def start_command(redis_url: str, *args: str) -> subprocess.Popen[str]:
    """A management command started in a process of its own (not waited for)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=process_env(redis_url),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def figure(drill: str, **values: object) -> None:
    """Print the drill's figure (`make drills` shows it)."""
    shown = ", ".join(f"{name}={value}" for name, value in values.items())
    print(f"\nDRILL {drill}: {shown}", flush=True)
