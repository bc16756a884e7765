"""Circuit breakers (pybreaker) on every door and on the payment provider.

Each target (a door: catalog, fulfillment, ordering, delivery; or payment) has one breaker:
after `fail_max` failures in a row it opens and calls fail at once with BreakerOpenError (an
UnavailableError: a 503 at the API, a placeholder on a page, the stand-in promise) instead of
waiting on a sick service; after `reset_seconds` one call goes through (half-open) and its
success closes it. A failure is an exception that is not an answer (an ApplicationError is
an answer: "out of stock" is not a sick service) or a call slower than the target's time
budget (`budget_ms`: the call's result is still returned, but it counts as a failure).

The state is shared through the default cache (Redis when configured): a breaker opened by
one process is open in every process within REFRESH_SECONDS; failure counts stay per process.
Settings: BREAKERS = {"fulfillment": {"fail_max": 5, "reset_seconds": 10, "budget_ms": 1000},
...} over DEFAULTS. Metrics: `breaker_state{breaker}` (0 closed, 1 half-open, 2 open) and
`breaker_transitions_total{breaker,state}`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pybreaker
from django.conf import settings
from django.core.cache import cache
from prometheus_client import Counter

from .errors import ApplicationError, UnavailableError

__all__ = [
    "BreakerOpenError",
    "answers",
    "breaker_config",
    "breaker_for",
    "breaker_states",
    "guarded",
]

logger = logging.getLogger(__name__)


# The doors, the payment provider, and the precise promise (delivery/facade/promise.py).
TARGETS = ("catalog", "fulfillment", "ordering", "delivery", "payment", "promise")
DEFAULTS = {"fail_max": 5, "reset_seconds": 10.0, "budget_ms": 1000}
REFRESH_SECONDS = 0.5
STATE_VALUES = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_HALF_OPEN: 1, pybreaker.STATE_OPEN: 2}

TRANSITIONS = Counter(
    "breaker_transitions_total", "Circuit breaker state changes", ["breaker", "state"]
)


class BreakerOpenError(UnavailableError):
    """A service's breaker is open: the call was not made (HTTP 503)."""

    code = "service_unavailable"
    default_message = "A service is unavailable right now. Please try again shortly."


class _Slow(Exception):
    """A call that answered after its budget: counted as a failure, its result kept."""

    def __init__(self, result: Any) -> None:
        self.result = result


class SharedStateStorage(pybreaker.CircuitMemoryStorage):
    """pybreaker's memory storage, but the state and when it opened live in the shared cache
    (read at most every REFRESH_SECONDS); failure counters stay in this process."""

    def __init__(self, name: str) -> None:
        super().__init__(pybreaker.STATE_CLOSED)
        self._key = f"kernel:breaker:{name}"
        self._shared: tuple[str, datetime | None] = (pybreaker.STATE_CLOSED, None)
        self._read_at = float("-inf")

    def _current(self) -> tuple[str, datetime | None]:
        if time.monotonic() - self._read_at >= REFRESH_SECONDS:
            self._read_at = time.monotonic()
            try:
                found = cache.get(self._key)
            except Exception as exc:  # the cache is down: this process decides alone
                logger.debug("breakers: shared state unreadable (%r)", exc)
            else:
                self._shared = found or (pybreaker.STATE_CLOSED, None)
        return self._shared

    def _write(self, state: str, opened_at: datetime | None) -> None:
        self._shared, self._read_at = (state, opened_at), time.monotonic()
        try:
            cache.set(self._key, self._shared, None)
        except Exception as exc:
            logger.warning("breakers: could not share the state (%r)", exc)

    @property
    def state(self) -> str:
        return self._current()[0]

    @state.setter
    def state(self, state: str) -> None:
        self._write(state, self._current()[1])

    @property
    def opened_at(self) -> datetime | None:
        return self._current()[1]

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        self._write(self._current()[0], value)

    def forget(self) -> None:
        self._read_at = float("-inf")
        self._shared = (pybreaker.STATE_CLOSED, None)


class _Listener(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        TRANSITIONS.labels(cb.name, new_state.name).inc()
        log = logger.warning if new_state.name != pybreaker.STATE_CLOSED else logger.info
        log("breaker %s: %s -> %s", cb.name, old_state.name if old_state else "-", new_state.name)


_answers: tuple[type[BaseException], ...] = (ApplicationError,)


def answers(*errors: type[BaseException]) -> None:
    """Declare more errors that are answers, not failures (e.g. the payment provider's "card
    declined"): they never count against a breaker."""
    global _answers
    _answers = (*_answers, *errors)


def _is_answer(exc: BaseException) -> bool:
    return isinstance(exc, _answers)


@dataclass
class Breaker:
    name: str
    circuit: pybreaker.CircuitBreaker
    storage: SharedStateStorage
    budget_ms: int


_breakers: dict[str, Breaker] = {}
_lock = threading.Lock()


def breaker_config(name: str) -> dict[str, Any]:
    """A target's breaker settings: fail_max, reset_seconds, budget_ms."""
    return {**DEFAULTS, **getattr(settings, "BREAKERS", {}).get(name, {})}


def breaker_for(name: str) -> Breaker:
    """The breaker of a target (made on first use, with the settings then in force)."""
    found = _breakers.get(name)
    if found is None:
        with _lock:
            found = _breakers.get(name)
            if found is None:
                config = breaker_config(name)
                storage = SharedStateStorage(name)
                circuit = pybreaker.CircuitBreaker(
                    fail_max=int(config["fail_max"]),
                    reset_timeout=float(config["reset_seconds"]),
                    exclude=[_is_answer],
                    listeners=[_Listener()],
                    state_storage=storage,
                    name=name,
                )
                found = Breaker(name, circuit, storage, int(config["budget_ms"]))
                _breakers[name] = found
    return found


def guarded[**P, R](name: str, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run `call` through the target's breaker: BreakerOpenError at once while it is open."""
    breaker = breaker_for(name)
    if _trial_under_way(breaker):
        raise BreakerOpenError(f"The {name} service is unavailable right now (trial under way).")
    started = time.perf_counter()
    try:
        # `calling()` runs the body outside pybreaker's lock (`call()` would hold it for the
        # whole call, one call at a time per process).
        with breaker.circuit.calling():
            result = call(*args, **kwargs)
            if (time.perf_counter() - started) * 1000 > breaker.budget_ms:
                raise _Slow(result)
    except _Slow as slow:
        return slow.result  # type: ignore[no-any-return]
    except pybreaker.CircuitBreakerError as exc:
        if isinstance(exc.__context__, _Slow):  # this slow call tripped it: keep its answer
            return exc.__context__.result  # type: ignore[no-any-return]
        raise BreakerOpenError(f"The {name} service is unavailable right now.") from exc
    return result


def _trial_under_way(breaker: Breaker) -> bool:
    """Half-open: one call (in any process) is the trial; the others fail at once meanwhile,
    instead of all waiting on a service that may still be sick. A trial that never reported
    (its process died) is given up after twice the reset time."""
    if breaker.circuit.current_state != pybreaker.STATE_HALF_OPEN:
        return False
    opened_at = breaker.storage.opened_at
    if opened_at is None:
        return False
    waited = (datetime.now(UTC) - opened_at).total_seconds()
    return waited < 2 * breaker.circuit.reset_timeout


def breaker_states() -> dict[str, str]:
    """Each target's breaker state as this process sees it: closed, half-open or open."""
    states = {}
    for name in TARGETS:
        breaker = breaker_for(name)
        state = breaker.circuit.current_state
        opened_at = breaker.storage.opened_at
        if (
            state == pybreaker.STATE_OPEN
            and opened_at is not None
            and (datetime.now(UTC) - opened_at).total_seconds() >= breaker.circuit.reset_timeout
        ):
            state = pybreaker.STATE_HALF_OPEN  # the next call is the trial
        states[name] = state
    return states


def forget() -> None:
    """Forget every breaker (tests: the next use makes them again from the settings)."""
    with _lock:
        _breakers.clear()
