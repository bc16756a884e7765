"""Shared set-up for the catalog benchmarks: a throw-away PostgreSQL database next to yours.

The benchmarks never touch the database in DATABASE_URL: they use `<name>_bench` on the same
server (dropped and created again by the import benchmark; created if missing by the API one).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def bench_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the figures are for PostgreSQL).")
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench"
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def admin_connect(url: str):
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    return psycopg.connect(admin, autocommit=True)


def database_exists(url: str) -> bool:
    name = urlsplit(url).path.lstrip("/")
    with admin_connect(url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def recreate_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def bench_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="prime_now.settings",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        # 16 clients on one address measure the server, not its per-address limit.
        API_THROTTLE_ENABLED="0",
        PRIME_NOW_RUN_DIR=env.get("PRIME_NOW_RUN_DIR") or tempfile.mkdtemp(prefix="pn-bench-cat-"),
    )
    return env


def manage(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        env=bench_env(url),
        cwd=ROOT,
        check=check,
        capture_output=True,
        text=True,
    )


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())
