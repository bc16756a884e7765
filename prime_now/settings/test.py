"""Test settings: PostgreSQL and Redis when reachable, else SQLite and in-memory parts.

TEST_FORCE_SQLITE=1 runs the suite as a machine without servers would.
Set REQUIRE_POSTGRES=1 / REQUIRE_REDIS=1 (CI does) to make an unreachable server an error
instead of a fallback. Tests that need PostgreSQL are marked `postgres` and are skipped, and
counted in the summary, on SQLite.
"""

import os
import socket

from django.core.exceptions import ImproperlyConfigured

from . import *
from . import (
    LOCAL_CACHE,
    POSTGRES_OPTIONS,
    REDIS_BROKER_TRANSPORT,
    env_bool,
    redis_url_with_db,
)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


FORCE_SQLITE = env_bool("TEST_FORCE_SQLITE")
if FORCE_SQLITE:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(RUN_DIR / "test.sqlite3")}
    }
elif not os.environ.get("DATABASE_URL") and _reachable("127.0.0.1", 5432):
    import dj_database_url

    DATABASES = {
        "default": dj_database_url.parse(
            "postgres://postgres@127.0.0.1:5432/prime_now", conn_max_age=0
        )
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = POSTGRES_OPTIONS
if os.environ.get("TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DB_NAME"]}
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if env_bool("REQUIRE_POSTGRES") and not USING_POSTGRES:
    raise ImproperlyConfigured("REQUIRE_POSTGRES is set but PostgreSQL is not configured/reachable")

REDIS_URL = os.environ.get("REDIS_URL", "")
if FORCE_SQLITE:
    REDIS_URL = ""
elif not REDIS_URL and _reachable("127.0.0.1", 6379):
    REDIS_URL = "redis://127.0.0.1:6379"
if env_bool("REQUIRE_REDIS") and not REDIS_URL:
    raise ImproperlyConfigured("REQUIRE_REDIS is set but Redis is not reachable")
USING_REDIS = bool(REDIS_URL)

# Each test process gets its own key prefix; the cache is cleared by prefix between tests.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CACHE_KEY_PREFIX = f"test-{os.getpid()}-{_worker}"
if USING_REDIS:
    CACHES = {
        "default": {
            "BACKEND": "prime_now.kernel.cache.ReusingRedisCache",
            "LOCATION": redis_url_with_db(REDIS_URL, 14),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    CELERY_BROKER_URL = redis_url_with_db(
        REDIS_URL, int(os.environ.get("TEST_REDIS_BROKER_DB", "13"))
    )
    CELERY_BROKER_TRANSPORT = REDIS_BROKER_TRANSPORT
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT = None
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CACHES["local"] = LOCAL_CACHE

# Tasks run inline unless a test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
