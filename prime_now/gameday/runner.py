"""Running a game day: measure the steady state, inject the scenario's faults (pull its levers,
run its actions), keep measuring, remove them, check recovery, judge each hypothesis."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from catalog import services as catalog
from delivery import services as delivery
from fulfillment import services as fulfillment
from prime_now import shedding
from prime_now.kernel.errors import ValidationError
from prime_now.kernel.faults import fault_add, fault_clear
from prime_now.kernel.levers import lever_set
from prime_now.kernel.models import User
from prime_now.kernel.roles import Role, role_grant
from prime_now.kernel.tokens import token_issue, tokens_revoke_all

from .load import Load, Recorder, Sample, Shop, Shopper
from .scenario import PHASES, Scenario

# The crowd the shoppers' API calls are spread over: at the shipped scenarios' highest checkout
# rate (4/s), each customer checks out about 10 times a minute, a third of the API's limit.
CUSTOMERS = 24
# Recovered: no degraded answer and no error for this long before the run's end.
CALM_SECONDS = 5.0
# How many products the shoppers buy from (those the hub holds most of).
SKUS = 40
# A steady state is measured on a stack that has caught up: at most this many tasks waiting
# in the queues (the last game day's cancellations, say), waited for at most this long.
QUIET_TASKS = 50
QUIET_WAIT_SECONDS = 300.0


@dataclass
class Outcome:
    scenario: Scenario
    samples: list[Sample]
    bounds: dict[str, tuple[float, float]]  # phase -> (start, end), seconds since start
    metrics: dict[str, dict[str, float | None]]  # phase (and "all") -> metric -> value
    verdicts: list[tuple[str, float | None, bool]]  # hypothesis, value, held
    notes: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return all(ok for _, _, ok in self.verdicts)


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def _failed(sample: Sample) -> bool:
    """No answer, or a server error; a checkout's 503 is an honest refusal ("try again
    shortly": a service it needs is down), not a failure."""
    if sample.kind == "checkout" and sample.status == 503:
        return False
    return sample.status == 0 or sample.status >= 500


def _bad(sample: Sample) -> bool:
    return sample.degraded or _failed(sample)


def measure(samples: list[Sample], dropped: set[str]) -> dict[str, float | None]:
    """The figures of one phase's samples."""
    ok = [s for s in samples if s.status]
    checkouts = [s for s in samples if s.kind == "checkout"]
    placed = [s.order for s in checkouts if s.status == 201]
    errors = sum(1 for s in samples if _failed(s))
    return {
        "requests": float(len(samples)),
        "promise_p99_ms": _p99([s.ms for s in ok if s.kind == "promise"]),
        "page_p99_ms": _p99([s.ms for s in ok if s.kind == "page"]),
        "server_errors": float(errors),
        # The API's limits refusing the game day's own load: its figures then measure the
        # limits, not the fault (every shipped scenario holds this at 0).
        "throttled": float(sum(1 for s in samples if s.status == 429)),
        "error_rate": errors / len(samples) if samples else 0.0,
        "degraded_share": sum(s.degraded for s in samples) / len(samples) if samples else 0.0,
        "checkout_success_rate": len(placed) / len(checkouts) if checkouts else None,
        "order_drop_rate": (sum(o in dropped for o in placed) / len(placed)) if placed else 0.0,
    }


def recovered_within(samples: list[Sample], recovery: tuple[float, float]) -> float:
    """Seconds from the fault's removal to the last degraded or failed answer (inf when the
    last CALM_SECONDS of the run still had one)."""
    start, end = recovery
    bad = [s.at for s in samples if start <= s.at and _bad(s)]
    if not bad:
        return 0.0
    if bad[-1] > end - CALM_SECONDS:
        return math.inf
    return bad[-1] - start


def _customers() -> tuple[list[int], list[str]]:
    """The game day's customers (made once, kept) and a fresh device token for each: issued
    here rather than by signing in over HTTP, which the sign-in limits (per address) would
    refuse for a crowd coming from one loopback address."""
    users, tokens = [], []
    for n in range(1, CUSTOMERS + 1):
        user, made = User.objects.get_or_create(username=f"gameday-{n:02d}")
        if made:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        role_grant(user_id=user.pk, role=Role.CUSTOMER)  # again each run: idempotent
        users.append(user.pk)
        tokens.append(token_issue(user=user, device="game day")[1])
    return users, tokens


def discover(postcode: str) -> tuple[Shop, str | None]:
    """Pages, in-stock SKUs and the hub for the postcode (through the apps' doors)."""
    promise = delivery.promise_for(postcode=postcode)
    hub = promise.hub_code
    ids = sorted(fulfillment.product_ids_in_stock(hub_code=hub))[:2000] if hub else []
    # The shoppers buy what the hub has most of: the game day's orders are cancelled only at
    # its end, and a shelf they emptied would refuse checkouts (out_of_stock) that would
    # read as the fault's doing.
    available = fulfillment.stock_available(hub_code=hub, product_ids=ids) if hub else {}
    plenty = sorted(ids, key=lambda pid: (-available.get(pid, 0), pid))[:SKUS]
    items = catalog.product_search(product_ids=plenty or None, page_size=SKUS).items
    departments = catalog.department_tree()
    pages = ["/"]
    if departments:
        pages.append(f"/d/{departments[0].slug}/")
    if items:
        pages.append(f"/search/?q={items[0].name.split()[0]}")
        pages += [f"/p/{p.sku}/" for p in items[:3]]
    return Shop(postcode=postcode, pages=pages, skus=[p.sku for p in items]), hub


SHELLS = {b"sh", b"dash", b"bash"}


def _worker_processes() -> dict[int, list[int]]:
    """This checkout's Celery workers (never another checkout's): each main process with its
    pool processes. A shell running one (honcho's `sh -c`, ops/keep-running) is not one."""
    base = str(Path(settings.BASE_DIR).resolve())
    parents: dict[int, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(f"/proc/{pid}/cwd")
            parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        celery = any(Path(a.decode(errors="replace")).name == "celery" for a in argv)
        if celery and b"worker" in argv and Path(argv[0].decode()).name.encode() not in SHELLS \
                and cwd == base:  # fmt: skip
            parents[int(pid)] = int(parent)
    return {
        pid: sorted(child for child, parent in parents.items() if parent == pid)
        for pid, parent in sorted(parents.items())
        if parent not in parents
    }


class Actions:
    """What a scenario does besides faults and levers, and how it is undone."""

    def __init__(self, hub: str | None, notes: list[str]) -> None:
        self.hub, self.notes = hub, notes
        self.capacities: dict[int, int] = {}
        self.killed: int | None = None

    def start(self, names: tuple[str, ...]) -> None:
        for name in names:
            getattr(self, f"start_{name}")()

    def stop(self) -> None:
        for window_id, capacity in self.capacities.items():
            try:
                delivery.window_set_capacity(window_id=window_id, capacity=capacity)
            except Exception as exc:
                self.notes.append(f"window {window_id}: capacity not restored ({exc})")
        self.capacities.clear()

    def start_kill_worker(self) -> None:
        """The whole worker dies at once, main process and pool (SIGKILL: no warm shutdown),
        as when the kernel's OOM killer or a lost container takes it. Its supervisor
        (ops/keep-running under `make run`, systemd or the orchestrator in production) is
        what starts it again; the tasks it held come back once the broker's visibility
        timeout has passed (acks late)."""
        workers = _worker_processes()
        if not workers:
            self.notes.append("kill_worker: no Celery worker of this checkout is running")
            return
        main, pool = next(iter(workers.items()))
        for pid in (main, *pool):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.killed = main
        self.notes.append(f"kill_worker: SIGKILL to worker {main} and its pool {pool}")

    def check_restarted(self) -> None:
        if self.killed is None:
            return
        others = [pid for pid in _worker_processes() if pid != self.killed]
        self.notes.append(
            f"kill_worker: worker running again as {others}" if others
            else "kill_worker: no worker is running (nothing restarted it)"
        )  # fmt: skip
        self.killed = None

    def start_hub_at_capacity(self) -> None:
        if self.hub is None:
            self.notes.append("hub_at_capacity: no hub serves the postcode")
            return
        for window in delivery.windows_open(hub_code=self.hub):
            taken = window.capacity - window.available
            try:
                delivery.window_set_capacity(window_id=window.id, capacity=taken)
            except ValidationError as exc:  # a seat was taken meanwhile
                taken = int(exc.fields.get("taken", window.capacity))
                delivery.window_set_capacity(window_id=window.id, capacity=taken)
            self.capacities[window.id] = window.capacity
        self.notes.append(f"hub_at_capacity: {len(self.capacities)} windows of {self.hub} full")


def run(
    scenario: Scenario,
    base: str,
    *,
    max_requests: int = 20_000,
    tick: Callable[[float, Recorder], None] | None = None,
) -> Outcome:
    """Run the scenario against the stack at `base` (checked to be loopback by the caller)."""
    customers, tokens = _customers()
    try:
        return _run(scenario, base, tokens, max_requests=max_requests, tick=tick)
    finally:  # the game day's tokens end with it, however it ends
        for user_id in customers:
            tokens_revoke_all(user_id=user_id)


def _run(
    scenario: Scenario,
    base: str,
    tokens: list[str],
    *,
    max_requests: int,
    tick: Callable[[float, Recorder], None] | None,
) -> Outcome:
    notes: list[str] = []
    shop, hub = discover(scenario.postcode)
    shop.tokens = tokens
    recorder = Recorder()
    load = Load(base, shop, recorder, concurrency=scenario.concurrency, mix=scenario.mix,
                max_requests=max_requests)  # fmt: skip
    load.rate = scenario.rate
    actions = Actions(hub, notes)
    waited, waiting = _await_quiet()
    notes.append(f"started after waiting {waited:.0f} s for the queues: {waiting} tasks waiting")
    bounds: dict[str, tuple[float, float]] = {}
    fault_ids: list[int] = []
    pulled: list[str] = []
    load.start()
    try:
        # Injecting the faults and running the actions (filling a hub's windows takes a
        # while), then undoing them, belong to no phase: the fault phase is measured once
        # all is in force, the recovery once all is removed.
        for phase in PHASES:
            if phase == "fault":
                minutes = (scenario.phases["fault"] + scenario.phases["recovery"]) / 60 + 1
                for fault in scenario.faults:
                    spec = fault_add(
                        target=fault["target"],
                        kind=fault["kind"],
                        latency_ms=int(fault.get("ms", 0)),
                        share=float(fault.get("share", 1.0)),
                        hub_code=str(fault.get("hub", "")),
                        minutes=minutes,
                        reason=f"game day: {scenario.name}",
                    )
                    fault_ids.append(spec.id)
                for lever in scenario.levers:
                    if lever_set(lever, enabled=False, reason=f"game day: {scenario.name}"):
                        pulled.append(lever)
                actions.start(scenario.actions)
                load.promise_multiplier = scenario.spike
            start = recorder.now()
            _wait(scenario.phases[phase], recorder, tick, load)
            bounds[phase] = (start, recorder.now())
            if phase == "fault":
                _undo(fault_ids, pulled, actions, scenario, load)
    finally:
        _undo(fault_ids, pulled, actions, scenario, load)
        load.stop()
    actions.check_restarted()
    samples = sorted(recorder.samples, key=lambda s: s.at)
    unprocessed, waited = _await_work([s.order for s in samples if s.order], scenario.settle)
    notes.append(
        f"{len(unprocessed)} placed orders still without a pick job {waited:.0f} s after the load "
        f"stopped: {', '.join(sorted(unprocessed)[:10])}" if unprocessed
        else f"every placed order had its pick job {waited:.0f} s after the load stopped"
    )  # fmt: skip
    dropped = _dropped_and_cancelled(base, shop, samples)
    metrics = {
        phase: measure([s for s in samples if lo <= s.at < hi], dropped)
        for phase, (lo, hi) in bounds.items()
    }
    for h in scenario.hypotheses:  # a hypothesis judged from some seconds into its phase
        if h.after and h.phase in bounds:
            lo, hi = bounds[h.phase]
            window = [s for s in samples if lo + h.after <= s.at < hi]
            metrics[h.window] = measure(window, dropped)
    metrics["all"] = measure(samples, dropped)
    metrics["run"] = {
        "recovered_within_seconds": recovered_within(samples, bounds["recovery"]),
        "orders_unprocessed": float(len(unprocessed)),
    }
    verdicts = []
    for hypothesis in scenario.hypotheses:
        value = metrics.get(hypothesis.window, {}).get(hypothesis.metric)
        verdicts.append((str(hypothesis), value, value is not None and hypothesis.holds(value)))
    return Outcome(scenario, samples, bounds, metrics, verdicts, notes)


def _wait(seconds: float, recorder: Recorder, tick: Any, load: Load) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(1.0, end - time.monotonic()))
        if tick is not None:
            tick(min(1.0, seconds), recorder)
        close_old_connections()


def _undo(fault_ids: list[int], pulled: list[str], actions: Actions, scenario: Scenario,
          load: Load) -> None:  # fmt: skip
    for fault_id in fault_ids:
        fault_clear(fault_id=fault_id)
    fault_ids.clear()
    for lever in pulled:
        lever_set(lever, enabled=True, reason=f"game day over: {scenario.name}")
    pulled.clear()
    actions.stop()
    load.promise_multiplier = 1.0


def _await_quiet() -> tuple[float, int]:
    """Wait (at most QUIET_WAIT_SECONDS) until the workers have caught up; how long it took
    and how many tasks were then waiting."""
    started = time.monotonic()
    while True:
        waiting = shedding.read_signals().queue_depth
        waited = time.monotonic() - started
        if waiting <= QUIET_TASKS or waited >= QUIET_WAIT_SECONDS:
            return waited, waiting
        time.sleep(2.0)
        close_old_connections()


def _await_work(orders: list[str], seconds: float) -> tuple[set[str], float]:
    """The placed orders whose pick job (what the worker makes of OrderPlaced) still does not
    exist `seconds` after the load stopped, and how long we waited for the others."""
    started = time.monotonic()
    missing = set(orders)
    while True:
        if missing:
            missing -= fulfillment.pick_jobs_existing(order_refs=sorted(missing))
        waited = time.monotonic() - started
        if not missing or waited >= seconds:
            return missing, waited
        time.sleep(min(2.0, seconds - waited))
        close_old_connections()


def _dropped_and_cancelled(base: str, shop: Shop, samples: list[Sample]) -> set[str]:
    """The orders the game day placed that the API cannot show their customer (dropped); every
    order it placed is then cancelled, giving its seat and stock back."""
    shopper = Shopper(base, shop, Recorder())
    dropped = set()
    for number, customer in {(s.order, s.customer) for s in samples if s.order}:
        if not shopper.order_visible(number, customer):
            dropped.add(number)
        shopper.cancel(number, customer)
    return dropped
