"""A few seconds of in-process memory in front of the shared cache, for values every page
reads and that change rarely (departments, which widgets are switched off). Each gunicorn
worker keeps its own copy; a change shows within `seconds` plus the shared cache's time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

_store: dict[str, tuple[float, Any]] = {}


def remembered(key: str, seconds: float, load: Callable[[], Any]) -> Any:
    now = time.monotonic()
    hit = _store.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    _store[key] = (now + seconds, value)
    return value


def forget_all() -> None:
    _store.clear()


class Once:
    """A call made at most once per page, shared by the widgets that need it (they may run
    on different threads at the same moment): the second caller waits for the first."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
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
