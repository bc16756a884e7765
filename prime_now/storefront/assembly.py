"""Page assembly: a page is a set of widgets, each backed by an app's door.

A widget has a time budget and a fallback. Widgets of one page run side by side on a small
thread pool; one that raises, overruns its budget or is switched off by its lever renders its
placeholder instead, and the page still renders. A widget whose value is already at hand in
this process (its `ready()` answers without I/O, e.g. from the in-process memo) is taken
directly, without a trip through the pool: most page views of a busy shop need no thread.
`Assembly.degraded` names the widgets that degraded (a switched-off widget is not "degraded":
an operator chose it) and the view puts them in the `X-Degraded-Widgets` response header so
they can be monitored.

When the request runs inside a database transaction (a test, or ATOMIC_REQUESTS), a widget
thread could not see the request's own writes, so widgets then run one after the other in
the request thread; a failure still degrades, an overrun is only logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, connections
from django.http import HttpResponse
from prometheus_client import Counter, Histogram

from prime_now.kernel.errors import NotFoundError
from prime_now.kernel.levers import is_declared, lever_on

from .memo import MISSING

logger = logging.getLogger(__name__)

DEGRADED_HEADER = "X-Degraded-Widgets"

WIDGET_DEGRADED = Counter(
    "storefront_widget_degraded_total",
    "Storefront widgets that rendered their placeholder",
    ["page", "widget", "reason"],
)
WIDGET_SECONDS = Histogram(
    "storefront_widget_seconds",
    "Time a storefront widget's loader took",
    ["page", "widget"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)


LEVER_PREFIX = "storefront-"


def lever_name(widget: str) -> str:
    """The lever that switches a widget off (e.g. `storefront-also-bought`, declared in
    storefront/levers.py); a widget without a declared lever is always on."""
    return f"{LEVER_PREFIX}{widget.replace('_', '-')}"


def switched_off(widget: str) -> bool:
    name = lever_name(widget)
    return is_declared(name) and not lever_on(name)


@dataclass(frozen=True)
class Widget:
    """One piece of a page: `load()` calls doors and returns the template context for it."""

    name: str
    load: Callable[[], Any]
    budget_ms: int = 300
    # Errors that are an answer, not a failure (e.g. "no such product" becomes a 404 page).
    passthrough: tuple[type[BaseException], ...] = ()
    # The value without I/O when it is already at hand, else memo.MISSING (then `load` runs).
    ready: Callable[[], Any] | None = None


@dataclass
class WidgetResult:
    name: str
    value: Any = None
    state: str = "ok"  # ok | failed | timeout | off
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state == "ok"


@dataclass
class Assembly:
    page: str
    results: dict[str, WidgetResult] = field(default_factory=dict)

    def __getitem__(self, name: str) -> WidgetResult:
        return self.results[name]

    @property
    def degraded(self) -> list[str]:
        return [r.name for r in self.results.values() if r.state in {"failed", "timeout"}]

    def stamp(self, response: HttpResponse) -> HttpResponse:
        """Name the degraded widgets in a response header (absent when none degraded)."""
        if self.degraded:
            response[DEGRADED_HEADER] = ", ".join(self.degraded)
        return response


_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(
            max_workers=getattr(settings, "STOREFRONT_WIDGET_THREADS", 8),
            thread_name_prefix="storefront-widget",
        )
    return _pool


_upkeep = threading.local()
UPKEEP_SECONDS = 1.0


# Each widget thread's database connections (Django's are per thread), for pool_shutdown.
_thread_connections: list = []
_thread_connections_lock = threading.Lock()


def pool_shutdown() -> None:
    """Stop the widget threads and close their database connections (tests call this before
    the test database is dropped; a web process simply exits)."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)
    with _thread_connections_lock:
        wrappers = _thread_connections[:]
        _thread_connections.clear()
    for wrapper in wrappers:
        # The threads are gone: close the driver's connection itself (Django's close() may
        # only run in the thread that opened it).
        if wrapper.connection is not None:
            wrapper.connection.close()


def _connection_upkeep(*, force: bool) -> None:
    """What Django does around each request, for a long-lived pool thread: drop a broken or
    expired connection. Not before every widget: each check costs a ping on the next query."""
    now = time.monotonic()
    if force or now - getattr(_upkeep, "last", 0.0) >= UPKEEP_SECONDS:
        _upkeep.last = now
        close_old_connections()


def _in_thread(load: Callable[[], Any]) -> tuple[Any, float]:
    if not getattr(_upkeep, "registered", False):
        _upkeep.registered = True
        with _thread_connections_lock:
            _thread_connections.extend(connections.all())
    _connection_upkeep(force=False)
    started = time.perf_counter()
    try:
        value = load()
    except BaseException:
        _connection_upkeep(force=True)
        raise
    return value, (time.perf_counter() - started) * 1000


def _failed(page: str, widget: Widget, exc: BaseException) -> WidgetResult:
    logger.warning(
        "storefront widget failed",
        extra={"page": page, "widget": widget.name, "error": repr(exc)},
        exc_info=not isinstance(exc, NotFoundError),
    )
    WIDGET_DEGRADED.labels(page, widget.name, "failed").inc()
    return WidgetResult(widget.name, state="failed")


def assemble(page: str, widgets: list[Widget]) -> Assembly:
    """Run the widgets of one page; never raises for a widget's failure or slowness."""
    assembly = Assembly(page)
    active: list[Widget] = []
    for widget in widgets:
        # Placeholders first so results keep the page's declared order.
        assembly.results[widget.name] = WidgetResult(widget.name, state="off")
        if not switched_off(widget.name):
            active.append(widget)
    pending = [w for w in active if not _taken_ready(assembly, w)]
    # On the pool even when alone: its budget holds only there (inline, a slow door held the
    # listing's lone badges widget, and the page, for as long as the door took: 2 s).
    if pending and not connection.in_atomic_block:
        _run_parallel(assembly, pending)
    else:
        _run_inline(assembly, pending)
    return assembly


def _taken_ready(assembly: Assembly, widget: Widget) -> bool:
    """Whether the widget's value was at hand (its result is then recorded)."""
    if widget.ready is None:
        return False
    try:
        value = widget.ready()
    except widget.passthrough:
        raise
    except Exception as exc:
        assembly.results[widget.name] = _failed(assembly.page, widget, exc)
        return True
    if value is MISSING:
        return False
    assembly.results[widget.name] = WidgetResult(widget.name, value, "ok")
    return True


def _timed_out(assembly: Assembly, widget: Widget) -> WidgetResult:
    logger.warning(
        "storefront widget timed out",
        extra={"page": assembly.page, "widget": widget.name, "budget": widget.budget_ms},
    )
    WIDGET_DEGRADED.labels(assembly.page, widget.name, "timeout").inc()
    return WidgetResult(widget.name, state="timeout")


def _run_inline(assembly: Assembly, widgets: list[Widget]) -> None:
    for widget in widgets:
        started = time.perf_counter()
        try:
            value = widget.load()
        except widget.passthrough:
            raise
        except Exception as exc:
            assembly.results[widget.name] = _failed(assembly.page, widget, exc)
            continue
        elapsed = (time.perf_counter() - started) * 1000
        WIDGET_SECONDS.labels(assembly.page, widget.name).observe(elapsed / 1000)
        if elapsed > widget.budget_ms:
            logger.warning(
                "storefront widget over budget",
                extra={"page": assembly.page, "widget": widget.name, "ms": round(elapsed)},
            )
        assembly.results[widget.name] = WidgetResult(widget.name, value, "ok", elapsed)


def _run_parallel(assembly: Assembly, widgets: list[Widget]) -> None:
    futures: dict[str, Future] = {w.name: _executor().submit(_in_thread, w.load) for w in widgets}
    # Wait at most the longest budget; then each widget is judged by its own budget.
    wait(futures.values(), timeout=max(w.budget_ms for w in widgets) / 1000)
    for widget in widgets:
        future = futures[widget.name]
        if not future.done():
            future.cancel()  # a queued one never runs; a running one finishes unseen
            assembly.results[widget.name] = _timed_out(assembly, widget)
            continue
        try:
            value, elapsed = future.result()
        except widget.passthrough:
            raise
        except Exception as exc:
            assembly.results[widget.name] = _failed(assembly.page, widget, exc)
            continue
        WIDGET_SECONDS.labels(assembly.page, widget.name).observe(elapsed / 1000)
        if elapsed > widget.budget_ms:
            assembly.results[widget.name] = _timed_out(assembly, widget)
        else:
            assembly.results[widget.name] = WidgetResult(widget.name, value, "ok", elapsed)
