"""Batch commands that refuse a second run and read any input without crashing.

`SingleRunCommand` is the base of every batch management command: the run holds a
PostgreSQL advisory lock named after the command, so a second run at the same time (on any
machine using the database) exits at once, non-zero, saying "already running". The run's
session gets BATCH_STATEMENT_TIMEOUT instead of the request-sized statement timeout.

`undecodable_line` finds the first line of a file that is not UTF-8, so an importer reports
it (line and column) before it applies anything.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

ALREADY_RUNNING = 3  # the exit status of a refused second run


def _lock_key(name: str) -> int:
    digest = hashlib.sha256(f"prime_now.command:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def single_run(name: str) -> Iterator[None]:
    """Hold the command's advisory lock for the block; CommandError when another run has it."""
    key = _lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (taken,) = cursor.fetchone()
    if not taken:
        raise CommandError(
            f"{name} is already running (another run holds its lock); nothing was done. "
            "Run it again once that one has finished.",
            returncode=ALREADY_RUNNING,
        )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [_timeout()])
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, false)",
                    [str(settings.DB_STATEMENT_TIMEOUT)],
                )


def _timeout() -> str:
    return str(getattr(settings, "BATCH_STATEMENT_TIMEOUT", "15min"))


class SingleRunCommand(BaseCommand):
    """A management command of which only one run goes at a time (see the module)."""

    def execute(self, *args: Any, **options: Any) -> Any:
        name = self.__module__.rsplit(".", 1)[-1]
        with single_run(name):
            return super().execute(*args, **options)


def undecodable_line(path: Path) -> str | None:
    """Where the file stops being UTF-8 ("line 3, column 7: byte 0xe9"), None when it is."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return f"line {number}, column {exc.start + 1}: byte 0x{raw[exc.start]:02x}"
    return None
