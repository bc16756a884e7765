"""Levers: switches that shed a feature without a deploy, declared in code by the app that owns
the feature, created on migrate, changed by operators (admin) or the load-shedding controller,
and audited (`LeverChange`: who, when, why, old -> new, by hand or automatic).

An app declares its levers in its own `levers.py` (found at start-up like admin modules):

    TYPO_SEARCH = declare(
        "catalog-typo-search", sheds="...", owner="catalog", criticality=Criticality.LOW
    )

and asks `lever_on(TYPO_SEARCH)` where the feature runs. "On" means the feature is served;
pulling a lever turns it off.

Reading costs no database query: each process keeps a snapshot of every lever's state, read
from the shared cache (Redis when configured) at most every REFRESH_SECONDS, so a change is
seen by every process within a second. A change writes the database, then the cache. When the
cache is unreadable the last snapshot is kept; without one, each lever's declared `safe` value
is used. Reading a lever never raises.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.cache import cache
from django.db import transaction
from prometheus_client import Counter

__all__ = [
    "Criticality",
    "LeverSpec",
    "declare",
    "declared",
    "is_declared",
    "lever_on",
    "lever_set",
    "lever_states",
    "UnknownLeverError",
]

logger = logging.getLogger(__name__)

SNAPSHOT_KEY = "kernel:levers:v2"
# The cached snapshot is rebuilt from the database at least this often (self-healing).
SNAPSHOT_TTL = 60
REFRESH_SECONDS = 0.5

LEVER_CHANGES = Counter(
    "lever_changes_total", "Lever changes", ["lever", "how", "state"]
)  # how: manual | automatic


class Criticality(StrEnum):
    """How much of the product a lever sheds: the controller pulls LOW ones first."""

    LOW = "low"  # a nicety: nobody notices for a while
    MEDIUM = "medium"  # a visible feature, the core flow unharmed
    HIGH = "high"  # part of the core flow degrades (e.g. sign-ups stop)


@dataclass(frozen=True)
class LeverSpec:
    """A lever as declared in code."""

    name: str
    sheds: str  # what pulling it switches off, for the admin and the runbook
    owner: str  # the app that owns the feature
    criticality: Criticality
    default: bool = True  # the state created on migrate
    safe: bool = True  # the state assumed while the lever store cannot be read


class UnknownLeverError(LookupError):
    """No lever of that name is declared."""


_declared: dict[str, LeverSpec] = {}


def declare(
    name: str,
    *,
    sheds: str,
    owner: str,
    criticality: Criticality,
    default: bool = True,
    safe: bool = True,
) -> str:
    """Declare a lever (at import time of the owning app's `levers.py`); returns its name."""
    spec = LeverSpec(name, sheds, owner, criticality, default, safe)
    if _declared.get(name, spec) != spec:
        raise ValueError(f"lever {name} is declared twice, differently")
    _declared[name] = spec
    return name


def declared() -> dict[str, LeverSpec]:
    """Every declared lever, by name."""
    return dict(_declared)


def is_declared(name: str) -> bool:
    """Whether a lever of that name is declared."""
    return name in _declared


# --- the per-process snapshot -------------------------------------------------------------


class _Snapshot:
    def __init__(self) -> None:
        self.states: dict[str, bool] | None = None
        self.read_at = float("-inf")
        self.lock = threading.Lock()

    def forget(self) -> None:
        self.states, self.read_at = None, float("-inf")


_snapshot = _Snapshot()


def _from_database() -> dict[str, bool]:
    from .models import Lever

    return dict(Lever.objects.values_list("name", "enabled"))


def _publish() -> dict[str, bool]:
    """Write the database's states to the shared cache (and this process's snapshot)."""
    states = _from_database()
    cache.set(SNAPSHOT_KEY, states, SNAPSHOT_TTL)
    _snapshot.states, _snapshot.read_at = states, time.monotonic()
    return states


def _read() -> dict[str, bool] | None:
    states: dict[str, bool] | None = cache.get(SNAPSHOT_KEY)
    if states is None:  # expired or flushed: rebuilt from the database by the first reader
        states = _publish()
    return states


def lever_states() -> dict[str, bool] | None:
    """Every lever's state as this process sees it (None while the store cannot be read and
    nothing was read before)."""
    if time.monotonic() - _snapshot.read_at < REFRESH_SECONDS:
        return _snapshot.states
    if not _snapshot.lock.acquire(blocking=_snapshot.states is None):
        return _snapshot.states  # another thread is refreshing: the current one will do
    try:
        if time.monotonic() - _snapshot.read_at >= REFRESH_SECONDS:
            try:
                _snapshot.states = _read()
            except Exception as exc:  # the cache or the database is down: keep what we had
                logger.warning("levers: store unreadable, keeping the last states (%r)", exc)
            _snapshot.read_at = time.monotonic()
        return _snapshot.states
    finally:
        _snapshot.lock.release()


def lever_on(name: str) -> bool:
    """Whether the feature behind the lever is served (not shed). No database query; never
    raises for a store that cannot be read (the declared safe value is used)."""
    spec = _declared.get(name)
    if spec is None:
        raise UnknownLeverError(name)
    states = lever_states()
    if states is None:
        return spec.safe
    return states.get(name, spec.default)


# --- changes ------------------------------------------------------------------------------


def lever_set(
    name: str,
    *,
    enabled: bool,
    reason: str,
    actor: Any = None,
    automatic: bool = False,
) -> bool:
    """Turn the lever's feature on or off, with an audit row (who: `actor`, a user, or the
    controller when `automatic`); every process sees it within a second. Returns whether the
    state changed."""
    from .models import Lever, LeverChange

    if name not in _declared:
        raise UnknownLeverError(name)
    with transaction.atomic():
        lever = Lever.objects.select_for_update().filter(name=name).first()
        if lever is None:  # declared after the last migrate
            lever = sync_declared([_declared[name]])[0]
            lever = Lever.objects.select_for_update().get(pk=lever.pk)
        if lever.enabled == enabled:
            return False
        LeverChange.objects.create(
            lever=lever,
            old=lever.enabled,
            new=enabled,
            actor=actor if actor is not None and actor.pk else None,
            automatic=automatic,
            reason=reason[:300],
        )
        lever.enabled = enabled
        lever.save(update_fields=["enabled", "updated_at"])
        transaction.on_commit(_publish)
    if transaction.get_connection().in_atomic_block:
        # Inside the caller's transaction (or a test's): seen by this process at once, by
        # the others when the caller commits (on_commit above).
        _publish()
    how = "automatic" if automatic else "manual"
    LEVER_CHANGES.labels(name, how, "on" if enabled else "off").inc()
    logger.warning(
        "lever %s turned %s (%s): %s", name, "on" if enabled else "off", how, reason or "-"
    )
    return True


def sync_declared(specs: list[LeverSpec] | None = None) -> list[Any]:
    """Create the declared levers that have no row (at their default), refresh the others'
    descriptions; states are left alone. Runs after every migrate."""
    from .models import Lever

    rows = []
    for spec in specs if specs is not None else list(_declared.values()):
        lever, _ = Lever.objects.update_or_create(
            name=spec.name,
            defaults={
                "description": spec.sheds,
                "owner": spec.owner,
                "criticality": str(spec.criticality),
                "default": spec.default,
                "safe": spec.safe,
            },
            create_defaults={
                "description": spec.sheds,
                "owner": spec.owner,
                "criticality": str(spec.criticality),
                "default": spec.default,
                "safe": spec.safe,
                "enabled": spec.default,
            },
        )
        rows.append(lever)
    try:
        _publish()
    except Exception as exc:
        logger.warning("levers: could not publish the states (%r)", exc)
    return rows


def forget_snapshot() -> None:
    """Drop this process's snapshot (tests; the next read goes to the cache)."""
    _snapshot.forget()
