"""The release: build a checkout, migrate what old code survives, start the new version beside
the running one, give it a share of the traffic through HAProxy, judge it, then promote it or
roll it back; and `rollback`, back to the previous version at once.

Everything it starts runs on this machine over loopback, its state in `<run dir>/state.json`
(docs/operations.md, "Releases", says how the same steps map onto a container platform).
"""

import fcntl
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prime_now.release import canary, processes
from prime_now.release.haproxy import HAProxy, other, slot_port
from prime_now.release.processes import Build


class ReleaseFailed(Exception):
    """The release did not go ahead; what serves is what served before."""


@dataclass
class Running:
    version: str
    checkout: str
    slot: str
    web: int
    worker: int
    beat: int = 0
    contracted: list[str] = field(default_factory=list)

    @property
    def build(self) -> Build:
        return Build(self.version, Path(self.checkout))


@dataclass
class State:
    port: int
    metrics_token: str
    live: Running | None = None
    previous: Build | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "port": self.port,
                "metrics_token": self.metrics_token,
                "live": asdict(self.live) if self.live else None,
                "previous": {
                    "version": self.previous.version,
                    "checkout": str(self.previous.checkout),
                }
                if self.previous
                else None,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> "State":
        data = json.loads(text)
        previous = data.get("previous")
        return cls(
            port=data["port"],
            metrics_token=data["metrics_token"],
            live=Running(**data["live"]) if data.get("live") else None,
            previous=Build(previous["version"], Path(previous["checkout"])) if previous else None,
        )


@dataclass(frozen=True)
class Options:
    run_dir: Path
    port: int
    limits: canary.Limits = canary.Limits()
    web_workers: int = 2
    worker_concurrency: int = 2
    ready_timeout: float = 90.0
    worker_timeout: float = 60.0  # warm shutdown: in-flight tasks finish within it, or go back
    interval: float = 1.0  # between two looks at the canary


class Releaser:
    def __init__(self, options: Options, say: Callable[[str], None] = print) -> None:
        self.options = options
        self.run_dir = options.run_dir
        self.run_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        self.say = lambda line: say(f"[{time.monotonic() - started:6.1f}s] {line}")
        self.state_file = self.run_dir / "state.json"
        self.proxy = HAProxy(run_dir=self.run_dir, port=options.port)
        self.state = self.load()

    # --- state -----------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[State]:
        """One release at a time; the state is saved whatever happens."""
        with (self.run_dir / "release.lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ReleaseFailed("another release is running")
            state = self.state = self.load()
            try:
                yield state
            finally:
                self.state_file.write_text(state.to_json())

    def load(self) -> State:
        if self.state_file.exists():
            return State.from_json(self.state_file.read_text())
        # The scrapers' token when there is one (the versions' /metrics need it), else ours.
        token = os.environ.get("METRICS_TOKEN") or secrets.token_urlsafe(32)
        return State(port=self.options.port, metrics_token=token)

    # --- build -----------------------------------------------------------------------------
    def build(self, repo: Path, ref: str) -> Build:
        """A checkout of `ref` (git archive, no .git), its version written beside the code, its
        static files collected."""
        version = git(repo, "describe", "--tags", "--always", ref)
        checkout = self.run_dir / "builds" / version
        if (checkout / "BUILD_VERSION").exists():
            self.say(f"build {version}: already at {checkout}")
            return Build(version, checkout)
        partial = checkout.with_name(version + ".partial")
        subprocess.run(["rm", "-rf", str(partial)], check=True)
        partial.mkdir(parents=True)
        archive = subprocess.Popen(["git", "-C", str(repo), "archive", ref], stdout=subprocess.PIPE)
        assert archive.stdout is not None
        with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
            tar.extractall(partial, filter="data")
        if archive.wait():
            raise ReleaseFailed(f"git archive {ref} failed")
        self.collect_static(repo, ref, Build(version, partial))
        (partial / "BUILD_VERSION").write_text(version + "\n")
        partial.rename(checkout)
        self.say(f"build {version}: checked out {ref} at {checkout}")
        return Build(version, checkout)

    def collect_static(self, repo: Path, ref: str, build: Build) -> None:
        """collectstatic, or a hard-linked copy of an earlier build's files when the project's
        static sources are the same (the libraries' come from the same virtualenv)."""
        tree = git(repo, "ls-tree", "-r", ref)
        key = hashlib.sha256(
            "\n".join(line for line in tree.splitlines() if "/static/" in line).encode()
        ).hexdigest()
        for earlier in (self.run_dir / "builds").glob("*/.static-key"):
            if earlier.read_text() == key:
                subprocess.run(
                    ["cp", "-al", str(earlier.parent / "staticfiles"), str(build.checkout)],
                    check=True,
                )
                break
        else:
            self.manage(build, "collectstatic", "--noinput", "-v0")
        (build.checkout / ".static-key").write_text(key)

    def manage(self, build: Build, *args: str) -> str:
        token = self.state.metrics_token
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=build.checkout,
            env=processes.environment(build, run_dir=self.run_dir, metrics_token=token),
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise ReleaseFailed(
                f"manage.py {' '.join(args)} ({build.version}): {result.stderr.strip()}"
            )
        return result.stdout

    def migrate(self, build: Build, phase: str) -> tuple[list[str], list[str]]:
        """Runs a phase of the migrations: (the applied ones, the ones left for later)."""
        output = json.loads(self.manage(build, "release_migrations", phase).splitlines()[-1])
        applied, deferred = output["applied"], output["deferred"]
        self.say(f"migrations ({phase}): {', '.join(applied) or 'none pending'}"
                 + (f"; after the switch: {', '.join(deferred)}" if deferred else ""))  # fmt: skip
        return applied, deferred

    # --- processes -------------------------------------------------------------------------
    def start(self, build: Build, slot: str, state: State, *, beat: bool) -> Running:
        token, run_dir = state.metrics_token, self.run_dir
        running = Running(
            version=build.version,
            checkout=str(build.checkout),
            slot=slot,
            web=processes.start_web(
                build, port=slot_port(state.port, slot), run_dir=run_dir, token=token,
                workers=self.options.web_workers,
            ),
            worker=processes.start_worker(
                build, run_dir=run_dir, token=token, concurrency=self.options.worker_concurrency
            ),
        )  # fmt: skip
        if beat:
            running.beat = processes.start_beat(build, run_dir=run_dir, token=token)
        self.say(f"{build.version}: web (pid {running.web}) on :{slot_port(state.port, slot)}, "
                 f"worker (pid {running.worker})")  # fmt: skip
        return running

    def wait_ready(self, running: Running, state: State) -> None:
        url = f"http://127.0.0.1:{slot_port(state.port, running.slot)}"
        deadline = time.monotonic() + self.options.ready_timeout
        seen = canary.Readiness(False, "", "not asked yet")
        while time.monotonic() < deadline:
            if not processes.alive(running.web):
                raise ReleaseFailed(
                    f"{running.version}: web exited (see its log in {self.run_dir}/logs)"
                )
            seen = canary.readiness(url)
            if seen.ready and seen.version == running.version:
                self.say(f"{running.version}: ready")
                return
            time.sleep(0.5)
        raise ReleaseFailed(
            f"{running.version}: not ready after {self.options.ready_timeout:.0f}s ({seen.detail})"
        )

    def start_beside(self, build: Build, live: Running, state: State) -> Running:
        """`build`'s web and worker in the slot `live` does not use, once ready (stopped, and
        the release failed, if it does not get ready)."""
        running = self.start(build, other(live.slot), state, beat=False)
        try:
            self.wait_ready(running, state)
        except ReleaseFailed:
            self.retire(running, drained=True)
            raise
        return running

    def retire(self, running: Running, *, drained: bool = False) -> None:
        """Stops a version's processes: web once HAProxy has drained it, the worker warm."""
        if not drained and self.proxy.running():
            self.proxy.drain(running.slot)
        _, warm = processes.stop_all(
            [running.web, running.worker], timeout=self.options.worker_timeout
        )
        if self.proxy.running():
            self.proxy.set_state(running.slot, "maint")
        how = "warm: its tasks finished" if warm else "killed: its tasks went back to the queue"
        self.say(f"{running.version}: web stopped, worker stopped ({how})")

    def hand_over_beat(self, old: Running, new: Running, state: State) -> None:
        """Beat never runs twice: the old one exits before the new one starts (and a second
        one would wait for the first's database lock anyway)."""
        processes.stop(old.beat, timeout=30)
        old.beat = 0
        new.beat = processes.start_beat(new.build, run_dir=self.run_dir, token=state.metrics_token)
        self.say(f"beat: {old.version} stopped, {new.version} started (pid {new.beat})")

    def switch(self, old: Running, new: Running, state: State) -> None:
        """All traffic to `new`, `old` drained and stopped, beat handed over."""
        self.proxy.set_weight(new.slot, 100)
        self.proxy.set_state(new.slot, "ready")
        self.proxy.drain(old.slot)
        self.say(f"traffic: all on {new.version}, {old.version} drained")
        self.retire(old, drained=True)
        self.hand_over_beat(old, new, state)

    # --- the commands ----------------------------------------------------------------------
    def release(self, repo: Path, ref: str) -> Running:
        with self.locked() as state:
            build = self.build(repo, ref)
            live = state.live
            if live is None:
                return self.first(build, state)
            if live.version == build.version:
                raise ReleaseFailed(f"{build.version} is already live")
            _, contract_steps = self.migrate(build, "expand")
            new = self.start_beside(build, live, state)
            try:
                reason = self.watch(live, new, state)
            except BaseException as error:  # the tool itself failed, or Ctrl-C: pessimism
                reason = f"the watch stopped ({type(error).__name__}: {error})"
            if reason:
                self.say(f"canary {new.version}: {reason}: rolling back")
                self.proxy.set_weight(live.slot, 100)
                self.retire(new)
                raise ReleaseFailed(f"{new.version} rolled back: {reason}; {live.version} serves")
            self.switch(live, new, state)
            if contract_steps:
                new.contracted, _ = self.migrate(build, "contract")
            state.previous, state.live = live.build, new
            self.say(f"{new.version} promoted: all traffic, {live.version} stopped")
            return new

    def first(self, build: Build, state: State) -> Running:
        # Nothing runs yet that a contract step could break.
        if self.migrate(build, "expand")[1]:
            self.migrate(build, "contract")
        running = self.start(build, "blue", state, beat=True)
        self.wait_ready(running, state)
        if self.proxy.running():
            self.proxy.set_weight("blue", 100)
            self.proxy.set_state("blue", "ready")
        else:
            self.proxy.start(live="blue")
        self.proxy.wait_status("blue", "UP")
        state.live = running
        self.say(f"{build.version} live on :{state.port} (first release)")
        return running

    def watch(self, live: Running, new: Running, state: State) -> str:
        """Gives `new` its share, watches it; the reason to roll back, or ""."""
        limits = self.options.limits
        url = f"http://127.0.0.1:{slot_port(state.port, new.slot)}"
        self.proxy.set_weight(new.slot, limits.share)
        self.proxy.set_weight(live.slot, 100 - limits.share)
        self.proxy.set_state(new.slot, "ready")
        self.proxy.wait_status(new.slot, "UP")
        self.say(f"canary {new.version}: {limits.share}% of the traffic for {limits.seconds:.0f}s")
        start, unready = canary.scrape(url, token=state.metrics_token), 0
        deadline = time.monotonic() + limits.seconds
        while True:
            finished = time.monotonic() >= deadline
            readiness = canary.readiness(url)
            unready = 0 if readiness.ready else unready + 1
            if unready >= limits.max_unready:
                return f"not ready {unready} times in a row ({readiness.detail})"
            try:
                seen = canary.scrape(url, token=state.metrics_token) - start
            except OSError as error:
                return f"its metrics are unreadable ({error})"
            reason = canary.verdict(seen, limits, finished=finished)
            if reason or finished:
                self.say(f"canary {new.version}: {seen.requests:.0f} requests, "
                         f"{seen.errors:.0f} errors, p99 {seen.p99:.3f}s")  # fmt: skip
                return reason
            time.sleep(self.options.interval)

    def rollback(self, *, force: bool = False) -> Running:
        with self.locked() as state:
            live, previous = state.live, state.previous
            if live is None or previous is None:
                raise ReleaseFailed("nothing to roll back to: no previous release")
            if live.contracted and not force:
                raise ReleaseFailed(
                    f"{live.version} ran contract steps ({', '.join(live.contracted)}): "
                    f"{previous.version} may read what they dropped. Roll forward with a fix "
                    "(or --force if you know it does not)."
                )
            self.say(f"rollback: {live.version} -> {previous.version}")
            back = self.start_beside(previous, live, state)
            self.switch(live, back, state)
            state.previous, state.live = live.build, back
            self.say(f"{back.version} live again, {live.version} stopped")
            return back

    def stop(self) -> None:
        """Stops everything the release tool started (the state is kept)."""
        with self.locked() as state:
            if state.live:
                live = state.live
                processes.stop_all([live.web, live.worker, live.beat], timeout=30)
            self.proxy.stop()
            state.live = None
            self.say("stopped")

    def status(self) -> dict[str, Any]:
        state = self.load()
        live = state.live
        return {
            "port": state.port,
            "live": None if live is None else {
                "version": live.version, "slot": live.slot,
                "web": processes.alive(live.web), "worker": processes.alive(live.worker),
                "beat": processes.alive(live.beat),
            },
            "previous": state.previous.version if state.previous else None,
            "haproxy": {slot: asdict(stat) for slot, stat in self.proxy.stats().items()}
            if self.proxy.running() else None,
        }  # fmt: skip


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if result.returncode:
        raise ReleaseFailed(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()
