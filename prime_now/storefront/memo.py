"""A few seconds of in-process memory in front of the shared cache, for values every page
reads and that change rarely (departments, which widgets are switched off, the promise for a
postcode). Each gunicorn worker keeps its own copy; a change shows within `seconds` plus the
shared cache's time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

MISSING: Any = object()  # `peek` found nothing fresh
MAX_ENTRIES = 2048  # expired entries are swept when the memo grows past this

_store: dict[str, tuple[float, Any]] = {}


def remembered(key: str, seconds: float, load: Callable[[], Any]) -> Any:
    now = time.monotonic()
    hit = _store.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    if len(_store) >= MAX_ENTRIES:
        _sweep(now)
    _store[key] = (now + seconds, value)
    return value


def peek(key: str) -> Any:
    """The remembered value if it is still fresh, else MISSING (never loads: no I/O)."""
    hit = _store.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    return MISSING


def _sweep(now: float) -> None:
    for key, (until, _) in list(_store.items()):
        if until <= now:
            _store.pop(key, None)
    if len(_store) >= MAX_ENTRIES:  # all fresh: a flood of distinct keys; start over
        _store.clear()


def forget_all() -> None:
    _store.clear()


class Once:
    """A call made at most once per page, shared by the widgets that need it (they may run
    on different threads at the same moment): the second caller waits for the first.

    `ready` (optional) answers without I/O when the value is already at hand (an in-process
    memo hit) and MISSING otherwise; `peek()` uses it so a page can skip the thread pool."""

    def __init__(self, load: Callable[[], Any], ready: Callable[[], Any] | None = None) -> None:
        self._load = load
        self._ready = ready
        self._lock = threading.Lock()
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def __call__(self) -> Any:
        with self._lock:
            if not self._done:
                try:
                    self._value = self._load()
                except Exception as exc:
                    self._error = exc
                self._done = True
        if self._error is not None:
            raise self._error
        return self._value

    def peek(self) -> Any:
        """The value if it is known without I/O (loaded already, or `ready` has it), else
        MISSING. Raises the load's error if the load already failed."""
        with self._lock:
            if not self._done and self._ready is not None:
                value = self._ready()
                if value is not MISSING:
                    self._value, self._done = value, True
            if not self._done:
                return MISSING
        if self._error is not None:
            raise self._error
        return self._value
