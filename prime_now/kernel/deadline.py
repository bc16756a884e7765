"""Waiting for a call at most so long: `within(seconds, call)` runs it on a small thread pool
and raises TimeoutError when it has not answered in time (the call itself runs on, unseen;
what it does when it finishes, e.g. filling a cache, still happens).

The pool is small (DEADLINE_THREADS, 4 per process): each thread keeps a database connection,
and a call that overruns keeps its thread until it ends; when all are busy, new calls queue
and simply time out, which is what a deadline is for.

Inside a database transaction (a test, or ATOMIC_REQUESTS) another thread could not see the
transaction's writes, so the call then runs inline, without a deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connection, connections

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_thread_connections: list = []  # type: ignore[type-arg]
_registered = threading.local()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=getattr(settings, "DEADLINE_THREADS", 4),
                thread_name_prefix="deadline",
            )
        return _pool


def _run[**P, R](call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    if not getattr(_registered, "done", False):
        _registered.done = True
        with _pool_lock:
            _thread_connections.extend(connections.all())
    close_old_connections()  # what Django does around a request, for a long-lived thread
    return call(*args, **kwargs)


def within[**P, R](seconds: float, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """`call(*args, **kwargs)`, or TimeoutError after `seconds`."""
    if connection.in_atomic_block:
        return call(*args, **kwargs)
    future = _executor().submit(_run, call, *args, **kwargs)  # type: ignore[arg-type]
    return future.result(timeout=max(seconds, 0.0))


def pool_shutdown() -> None:
    """Stop the threads and close their database connections (tests, before the test
    database is dropped)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
        wrappers = _thread_connections[:]
        _thread_connections.clear()
    if pool is not None:
        pool.shutdown(wait=True)
    for wrapper in wrappers:
        if wrapper.connection is not None:
            wrapper.connection.close()
