"""The embedded PostgreSQL server (prime_now.embedded_db): started once, shared by every
process, stopped on demand."""

import json
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg

from prime_now import embedded_db

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
from pathlib import Path
import dj_database_url
import psycopg
from prime_now.embedded_db import database_settings
db = database_settings(Path(sys.argv[1]))
with psycopg.connect(host=db["HOST"], user=db["USER"], dbname=db["NAME"]) as connection:
    started, directory = connection.execute(
        "SELECT pg_postmaster_start_time()::text, current_setting('data_directory')"
    ).fetchone()
print(json.dumps({"started": started, "directory": directory}))
"""


def test_two_processes_starting_at_once_share_one_server(embedded_run_dir):
    # Given no server yet, when two processes ask for the database at the same moment
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE, str(embedded_run_dir)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    # Then both get it, from one and the same server
    assert [process.returncode for process in processes] == [0, 0], outputs
    found = [json.loads(stdout) for stdout, _stderr in outputs]
    assert found[0] == found[1]
    assert found[0]["directory"] == str(embedded_run_dir / "postgres")


def test_a_stopped_server_no_longer_answers_and_starts_again_on_demand(embedded_run_dir):
    # Given a running server
    host = embedded_db.database_settings(embedded_run_dir)["HOST"]

    # When it is stopped, then it no longer answers (and a second stop has nothing to do)
    assert embedded_db.server_stop(embedded_run_dir) is True
    assert embedded_db.server_stop(embedded_run_dir) is False

    # And the next process that needs it starts it again, with its data kept
    assert embedded_db.database_settings(embedded_run_dir)["HOST"] == host
    psycopg.connect(host=host, user="postgres", dbname="prime_now").close()


def test_the_embedded_server_s_url_names_its_socket_directory():
    # Given the embedded server's socket directory
    socket_dir = "/work/prime now/.run/postgres"

    # When it is written as a DATABASE_URL and read back as Django reads it
    parsed = dj_database_url.parse(embedded_db.database_url(socket_dir))

    # Then it is the same server and database
    assert (parsed["HOST"], parsed["NAME"], parsed["USER"]) == (socket_dir, "prime_now", "postgres")
