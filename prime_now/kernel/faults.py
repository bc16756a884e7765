"""Fault injection: named faults at every door and external dependency, for game days.

A fault is a row (`Fault`, kept after it is cleared: the audit) naming a target (a door:
catalog, fulfillment, ordering, delivery; or payment, cache, broker), a kind (latency: the
call is slowed; error: it raises; timeout: it hangs for `latency_ms`, then raises
TimeoutError), the share of calls it hits, optionally one hub, and an expiry. `fault_point`
runs at each target (every function of a door, each payment provider call, each cache
operation, each broker publish) and acts on the active faults.

Like levers, the active faults are a per-process snapshot read from the shared cache at most
every REFRESH_SECONDS (an injection or a clearing is in force everywhere within a second;
with no fault a point costs a dict lookup). Faults act only where FAULT_INJECTION_ALLOWED is
true (the default, but false in production settings unless set explicitly); adding one
elsewhere is refused.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from prometheus_client import Counter

from .errors import ApplicationError, ValidationError

__all__ = [
    "FaultKind",
    "FaultSpec",
    "FaultTarget",
    "FaultsNotAllowedError",
    "InjectedFault",
    "InjectedOutage",
    "InjectedTimeout",
    "fault_add",
    "fault_clear",
    "fault_point",
    "faults_active",
]

logger = logging.getLogger(__name__)

SNAPSHOT_KEY = "kernel:faults:v1"
SNAPSHOT_TTL = 60
REFRESH_SECONDS = 0.5
MAX_MINUTES = 24 * 60

FAULTS_FIRED = Counter("faults_injected_total", "Injected faults that acted", ["target", "kind"])


class FaultTarget(StrEnum):
    CATALOG = "catalog"
    FULFILLMENT = "fulfillment"
    ORDERING = "ordering"
    DELIVERY = "delivery"
    PAYMENT = "payment"
    CACHE = "cache"
    BROKER = "broker"


class FaultKind(StrEnum):
    LATENCY = "latency"  # the call is slowed by latency_ms, then runs
    ERROR = "error"  # the call raises InjectedFault
    TIMEOUT = "timeout"  # the call hangs for latency_ms, then raises TimeoutError


class InjectedFault(RuntimeError):
    """An error injected on purpose (a game day or a drill)."""


class InjectedTimeout(InjectedFault, TimeoutError):
    """A timeout injected on purpose."""


class InjectedOutage(InjectedFault, ConnectionError):
    """A lost connection injected on purpose (the cache's or the broker's: their callers
    handle it as they handle the real thing)."""


OUTAGE_TARGETS = {"cache", "broker"}


class FaultsNotAllowedError(ApplicationError):
    """Fault injection is switched off here (production without FAULT_INJECTION_ALLOWED)."""

    code = "faults_not_allowed"
    status = 403
    default_message = "Fault injection is not allowed on this deployment."


@dataclass(frozen=True)
class FaultSpec:
    """An active fault as the fault points see it."""

    id: int
    target: FaultTarget
    kind: FaultKind
    latency_ms: int
    share: float
    hub_code: str
    expires_at: datetime

    def hits(self, hub_code: str | None, now: datetime) -> bool:
        if now >= self.expires_at:
            return False
        if self.hub_code and hub_code != self.hub_code:
            return False
        return self.share >= 1 or random.random() < self.share


def allowed() -> bool:
    return bool(getattr(settings, "FAULT_INJECTION_ALLOWED", False))


# --- the per-process snapshot -------------------------------------------------------------

_local = threading.local()  # `reading`: the snapshot's own cache read is not a fault point


class _Snapshot:
    def __init__(self) -> None:
        self.by_target: dict[str, tuple[FaultSpec, ...]] = {}
        self.read_at = float("-inf")
        self.lock = threading.Lock()


_snapshot = _Snapshot()


def _from_database() -> list[FaultSpec]:
    from .models import Fault

    rows = Fault.objects.filter(cleared_at__isnull=True, expires_at__gt=timezone.now())
    return [_spec(fault) for fault in rows]


def _spec(fault: Any) -> FaultSpec:
    return FaultSpec(
        id=fault.pk,
        target=FaultTarget(fault.target),
        kind=FaultKind(fault.kind),
        latency_ms=fault.latency_ms,
        share=fault.share,
        hub_code=fault.hub_code,
        expires_at=fault.expires_at,
    )


def _index(specs: list[FaultSpec]) -> dict[str, tuple[FaultSpec, ...]]:
    by_target: dict[str, list[FaultSpec]] = {}
    for spec in specs:
        by_target.setdefault(str(spec.target), []).append(spec)
    return {target: tuple(found) for target, found in by_target.items()}


def _publish() -> None:
    specs = _from_database()
    with suspended():
        cache.set(SNAPSHOT_KEY, specs, SNAPSHOT_TTL)
    _snapshot.by_target, _snapshot.read_at = _index(specs), time.monotonic()


def _refresh() -> None:
    with suspended():
        specs: list[FaultSpec] | None = cache.get(SNAPSHOT_KEY)
    if specs is None:
        _publish()
    else:
        _snapshot.by_target = _index(specs)


def _active(target: str) -> tuple[FaultSpec, ...]:
    if time.monotonic() - _snapshot.read_at >= REFRESH_SECONDS and _snapshot.lock.acquire(
        blocking=False
    ):
        try:
            _refresh()
        except Exception as exc:  # keep the last snapshot (a cache fault keeps acting)
            logger.debug("faults: snapshot unreadable (%r)", exc)
        finally:
            _snapshot.read_at = time.monotonic()
            _snapshot.lock.release()
    return _snapshot.by_target.get(target, ())


def fault_point(target: str, *, hub_code: str | None = None) -> None:
    """Act on the active faults of this target (and hub): sleep, raise, or both."""
    if getattr(_local, "reading", False) or not allowed():
        return
    faults = _active(target)
    if not faults:
        return
    now = timezone.now()
    for fault in faults:
        if not fault.hits(hub_code, now):
            continue
        FAULTS_FIRED.labels(target, str(fault.kind)).inc()
        if fault.kind == FaultKind.LATENCY:
            time.sleep(fault.latency_ms / 1000)
            continue
        if fault.kind == FaultKind.TIMEOUT:
            time.sleep(fault.latency_ms / 1000)
            raise InjectedTimeout(f"injected timeout at {target} (fault {fault.id})")
        error = InjectedOutage if target in OUTAGE_TARGETS else InjectedFault
        raise error(f"injected error at {target} (fault {fault.id})")


@contextmanager
def suspended() -> Iterator[None]:
    """No fault acts in this thread meanwhile (the test harness's own cache upkeep)."""
    before = getattr(_local, "reading", False)
    _local.reading = True
    try:
        yield
    finally:
        _local.reading = before


def forget_snapshot() -> None:
    """Drop this process's snapshot (tests)."""
    _snapshot.by_target, _snapshot.read_at = {}, float("-inf")


# --- commands ---------------------------------------------------------------------------------


def fault_add(
    *,
    target: str,
    kind: str,
    reason: str,
    latency_ms: int = 0,
    share: float = 1.0,
    hub_code: str = "",
    minutes: float = 10,
    actor: Any = None,
) -> FaultSpec:
    """Inject a fault for `minutes` (at most a day); in force everywhere within a second."""
    from .models import Fault

    if not allowed():
        raise FaultsNotAllowedError()
    fields = {}
    if target not in FaultTarget.__members__.values():
        fields["target"] = f"one of {', '.join(FaultTarget)}"
    if kind not in FaultKind.__members__.values():
        fields["kind"] = f"one of {', '.join(FaultKind)}"
    if not 0 < share <= 1:
        fields["share"] = "above 0, at most 1"
    if not 0 < minutes <= MAX_MINUTES:
        fields["minutes"] = f"above 0, at most {MAX_MINUTES}"
    if latency_ms < 0 or (kind in (FaultKind.LATENCY, FaultKind.TIMEOUT) and latency_ms == 0):
        fields["latency_ms"] = "a positive number of milliseconds for latency and timeouts"
    if not reason.strip():
        fields["reason"] = "required"
    if fields:
        raise ValidationError("This fault cannot be injected.", fields=fields)
    fault = Fault.objects.create(
        target=target,
        kind=kind,
        latency_ms=latency_ms,
        share=share,
        hub_code=hub_code,
        expires_at=timezone.now() + timedelta(minutes=minutes),
        reason=reason[:300],
        created_by=actor if actor is not None and actor.pk else None,
    )
    _publish_soon()
    logger.warning("fault %s injected: %s", fault.pk, fault)
    return _spec(fault)


def fault_clear(*, fault_id: int | None = None, actor: Any = None) -> int:
    """Clear one fault, or every active one (`fault_id` None); returns how many."""
    from .models import Fault

    rows = Fault.objects.filter(cleared_at__isnull=True)
    if fault_id is not None:
        rows = rows.filter(pk=fault_id)
    cleared = rows.update(
        cleared_at=timezone.now(),
        cleared_by=actor if actor is not None and actor.pk else None,
    )
    _publish_soon()
    if cleared:
        logger.warning("faults cleared: %s", fault_id if fault_id is not None else "all")
    return cleared


def faults_active() -> list[FaultSpec]:
    """The active faults (from the database)."""
    return _from_database()


def _publish_soon() -> None:
    from django.db import transaction

    transaction.on_commit(_publish)
    if transaction.get_connection().in_atomic_block:
        _publish()  # seen at once by this process (and by the others after commit)
