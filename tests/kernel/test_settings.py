"""Settings come from the environment; with nothing set the project runs on embedded parts
(an embedded PostgreSQL server, a file cache and broker)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db["HOST"],
    "conn_max_age": db["CONN_MAX_AGE"],
    "health_checks": db.get("CONN_HEALTH_CHECKS"), "cache": settings.CACHES["default"],
    "broker": settings.CELERY_BROKER_URL, "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS, "mailer": settings.MAILERS["default"],
    "hosts": settings.ALLOWED_HOSTS, "db_options": db["OPTIONS"].get("options", ""),
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "time_limits": [settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT],
}))
"""
SERVER_VARS = ("DATABASE_URL", "REDIS_URL", "DEBUG", "ALLOWED_HOSTS", "SECRET_KEY", "EMAIL_HOST")


def settings_with(tmp_path: Path, module: str = "prime_now.settings", **env: str):
    clean = {key: value for key, value in os.environ.items() if key not in SERVER_VARS}
    clean.update(DJANGO_SETTINGS_MODULE=module, PRIME_NOW_RUN_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PROBE}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_nothing_set_it_runs_on_the_embedded_postgresql_and_a_file_broker(
    embedded_run_dir,
):
    result = settings_with(embedded_run_dir)
    found = json.loads(result.stdout)

    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "prime_now"
    assert found["host"] == str(embedded_run_dir / "postgres")  # its Unix socket's directory
    assert found["broker"] == "filesystem://"
    assert found["cache"]["BACKEND"].endswith("FileBasedCache")
    assert found["debug"] is False


def test_with_urls_set_it_runs_on_postgresql_and_redis_on_separate_databases(tmp_path):
    result = settings_with(
        tmp_path,
        DATABASE_URL="postgres://app@db.internal:5432/prime_now",
        REDIS_URL="redis://cache.internal:6379",
        ALLOWED_HOSTS="shop.example,api.example",
    )
    found = json.loads(result.stdout)

    assert found["engine"] == "django.db.backends.postgresql"
    assert (found["host"], found["name"]) == ("db.internal", "prime_now")
    assert found["conn_max_age"] == 60
    assert found["health_checks"] is True
    assert found["cache"]["BACKEND"] == "prime_now.kernel.cache.FailSafeRedisCache"
    assert found["cache"]["LOCATION"] == "redis://cache.internal:6379/1"
    assert found["broker"] == "redis://cache.internal:6379/0"
    assert found["hosts"] == ["shop.example", "api.example"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = settings_with(
        tmp_path,
        module="prime_now.settings.production",
        DATABASE_URL="postgres://app@db.internal:5432/prime_now",
    )

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_emails_print_to_the_console_unless_an_smtp_host_is_set(tmp_path):
    url = "postgres://app@db.internal:5432/prime_now"

    development = json.loads(settings_with(tmp_path, DATABASE_URL=url).stdout)["mailer"]
    smtp = json.loads(settings_with(tmp_path, DATABASE_URL=url, EMAIL_HOST="smtp.example").stdout)[
        "mailer"
    ]

    assert development["BACKEND"].endswith("console.EmailBackend")
    assert smtp["BACKEND"].endswith("smtp.EmailBackend")
    assert smtp["OPTIONS"]["host"] == "smtp.example"


def test_production_always_sends_email_by_smtp(tmp_path):
    result = settings_with(
        tmp_path,
        module="prime_now.settings.production",
        DATABASE_URL="postgres://app@db.internal:5432/prime_now",
        SECRET_KEY="x" * 64,
        ALLOWED_HOSTS="shop.example",
    )

    mailer = json.loads(result.stdout)["mailer"]
    assert mailer["BACKEND"].endswith("smtp.EmailBackend")
    assert mailer["OPTIONS"]["host"] == "localhost"


def test_tests_that_require_redis_fail_without_redis_url_instead_of_skipping(tmp_path):
    result = settings_with(
        tmp_path,
        module="prime_now.settings.test",
        DATABASE_URL="postgres://app@db.internal:5432/prime_now",
        REQUIRE_REDIS="1",
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_tests_without_redis_send_tasks_to_memory_not_to_the_embedded_file_broker(tmp_path):
    # Given the test settings and no REDIS_URL (the embedded defaults name the file broker)
    # (CI's REQUIRE_REDIS would refuse these settings: that is the test above.)
    unset = (*SERVER_VARS, "REQUIRE_REDIS")
    clean = {key: value for key, value in os.environ.items() if key not in unset}
    clean.update(DJANGO_SETTINGS_MODULE="prime_now.settings.test", PRIME_NOW_RUN_DIR=str(tmp_path),
                 DATABASE_URL="postgres://app@db.internal:5432/prime_now")  # fmt: skip
    probe = (
        "import django; django.setup()\n"
        "from prime_now.celery import app\n"
        "with app.connection_for_write() as c: print(type(c.transport).__module__)"
    )

    # When the Celery app opens its broker connection
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=clean, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip

    # Then it is kombu's in-memory transport, as the broker URL says
    assert result.stdout.strip().splitlines()[-1] == "kombu.transport.memory"


def test_every_client_has_timeouts_and_a_killed_workers_task_comes_back_within_minutes(tmp_path):
    # Given the servers configured by URL
    result = settings_with(
        tmp_path,
        DATABASE_URL="postgres://app@db.internal:5432/prime_now",
        REDIS_URL="redis://cache.internal:6379",
    )
    found = json.loads(result.stdout)

    # Then Redis clients give up quickly, PostgreSQL fences statements, locks and idle
    # transactions, and Redis hands a dead worker's task on just above the hard time limit
    assert found["cache"]["OPTIONS"] == {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    assert found["transport"]["socket_connect_timeout"] == 0.5
    for fence in ("statement_timeout=", "lock_timeout=", "idle_in_transaction_session_timeout="):
        assert fence in found["db_options"]
    soft, hard = found["time_limits"]
    assert 0 < soft < hard
    assert hard < found["transport"]["visibility_timeout"] <= hard + 60
