"""The release drill: real HAProxy, gunicorn, Celery worker and beat processes on loopback,
a client sending requests through HAProxy the whole time.

Given version v1 live, when v2 (its new code raises on one endpoint) is released, then the
canary is rolled back on its own; when v3 (good) is released, it is promoted; when
`--rollback` runs, v1 serves again. The client sees no failed request in any of it.
"""

import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from prime_now.release import processes
from prime_now.release.canary import Limits
from prime_now.release.tool import Options, ReleaseFailed, Releaser

ROOT = Path(__file__).resolve().parents[2]
BROKEN = """

def _broken(request):
    raise RuntimeError("this release has a bug")


urlpatterns.insert(0, path("api/v1/catalog/departments", _broken))
"""

PATHS = ["/api/v1/catalog/departments", "/api/v1/catalog/products", "/healthz"]

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path) -> Path:
    """This working tree as v1; v2 breaks an endpoint; v3 is v1 again plus a harmless change."""
    repo = tmp_path / "repo"
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    git(repo, "init", "-q")
    git(
        repo,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    commit = ["-c", "user.name=drill", "-c", "user.email=drill@example.com", "commit", "-qam"]
    git(repo, "add", "-A")
    git(repo, *commit, "v1")
    git(repo, "tag", "v1")
    urls = repo / "prime_now" / "urls.py"
    good = urls.read_text()
    urls.write_text(good + BROKEN)
    git(repo, *commit, "v2: departments raise")
    git(repo, "tag", "v2")
    urls.write_text(good)
    (repo / "CHANGES").write_text("v3\n")
    git(repo, "add", "CHANGES")
    git(repo, *commit, "v3")
    git(repo, "tag", "v3")
    return repo


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports."""
    import socket

    for first in range(20000, 60000, 97):
        try:
            sockets = []
            for port in range(first, first + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free ports")


@pytest.fixture
def releaser(monkeypatch):
    if not shutil.which("haproxy") and not os.path.exists("/usr/sbin/haproxy"):
        if os.environ.get("REQUIRE_HAPROXY"):
            pytest.fail("REQUIRE_HAPROXY is set but haproxy is not installed")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    db = connection.settings_dict
    run_dir = Path(tempfile.mkdtemp(prefix="pn-release-"))  # short: HAProxy's socket path
    for name, value in {
        "DJANGO_SETTINGS_MODULE": "prime_now.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        # Databases no other test flushes or consumes from (the cache is shared by prefix).
        "REDIS_BROKER_DB": "1",
        "REDIS_CACHE_DB": "14",
        "CACHE_KEY_PREFIX": f"drill-{os.getpid()}",
        "PRIME_NOW_RUN_DIR": str(run_dir),
        # One client at full speed from one address: the API's per-address limits would answer
        # it 429. The drill is about releases, not limits (as the fault drills and benchmarks).
        "API_THROTTLE_ENABLED": "0",
    }.items():
        monkeypatch.setenv(name, value)
    # Short on purpose: the watch is what a real release makes two minutes long.
    # p99 is generous: CI's two CPUs run other tests beside these processes.
    limits = Limits(seconds=5, share=50, min_requests=10, max_p99=5.0)
    options = Options(
        run_dir=run_dir, port=free_ports(3), limits=limits, web_workers=1,
        worker_concurrency=1, interval=0.5,
    )  # fmt: skip
    lines: list[str] = []
    releaser = Releaser(options, say=lambda line: (lines.append(line), print(line)))
    yield releaser
    state = releaser.load()
    releaser.stop()
    for running in filter(None, [state.live]):
        for pid in (running.web, running.worker, running.beat):
            processes.stop(pid, timeout=5)
    shutil.rmtree(run_dir, ignore_errors=True)


class Client(threading.Thread):
    """GETs through HAProxy, as fast as one thread goes; counts answers per phase."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.phase, self.running = url, "v1", True
        self.counts: Counter[tuple[str, str]] = Counter()

    def run(self) -> None:
        while self.running:
            # At random: a fixed order would meet round robin's fixed order.
            for path in random.sample(PATHS, k=len(PATHS)):
                try:
                    with urllib.request.urlopen(self.url + path, timeout=30) as response:
                        outcome = "ok" if response.status == 200 else f"HTTP {response.status}"
                except urllib.error.HTTPError as error:
                    outcome = f"HTTP {error.code}"
                except OSError as error:
                    outcome = type(error).__name__
                self.counts[(self.phase, outcome)] += 1
            time.sleep(0.01)

    def failed(self) -> int:
        return sum(n for (_, outcome), n in self.counts.items() if outcome != "ok")


def version_served(url: str) -> str:
    with urllib.request.urlopen(url + "/readyz", timeout=10) as response:
        return json.loads(response.read())["version"]


def metrics(url: str, state) -> str:
    request = urllib.request.Request(
        url + "/metrics", headers={"Authorization": f"Bearer {state.metrics_token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def test_a_broken_canary_rolls_back_a_good_one_is_promoted_and_rollback_goes_back(repo, releaser):
    url = f"http://127.0.0.1:{releaser.options.port}"
    first = releaser.release(repo, "v1")
    client = Client(url)
    client.start()
    try:
        client.phase = "v2 (broken)"
        with pytest.raises(ReleaseFailed, match="v2 rolled back: error rate"):
            releaser.release(repo, "v2")
        assert version_served(url) == "v1"
        assert releaser.load().live.version == "v1"

        client.phase = "v3 (good)"
        promoted = releaser.release(repo, "v3")
        assert version_served(url) == "v3"
        assert 'prime_now_build_info{version="v3"} 1.0' in metrics(url, releaser.state)
        assert not processes.alive(first.web) and not processes.alive(first.worker)
        assert not processes.alive(first.beat) and processes.alive(promoted.beat)

        client.phase = "rollback"
        back = releaser.rollback()
        assert back.version == "v1" and version_served(url) == "v1"
        status = releaser.status()
        assert status["live"] == {**status["live"], "version": "v1", "web": True, "beat": True}
        assert not processes.alive(promoted.web) and not processes.alive(promoted.beat)
    finally:
        client.running = False
        client.join(timeout=35)
    print("\nclient through HAProxy:", dict(client.counts))
    assert sum(client.counts.values()) > 100
    assert client.failed() == 0
