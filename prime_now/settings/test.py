"""Test settings: the base settings' PostgreSQL (DATABASE_URL's server, else the embedded one),
and Redis when REDIS_URL is set, else an in-memory cache and broker.

Set REQUIRE_REDIS=1 (CI does) to make a missing Redis an error instead of a fallback; tests
that need Redis are marked `redis` and are skipped, and counted in the summary, without it.
"""

import os

from django.core.exceptions import ImproperlyConfigured

# The test runner creates, migrates and drops whole databases, slower than any request
# statement on a loaded machine: its statements get minutes, not the production 30 s.
os.environ.setdefault("DB_STATEMENT_TIMEOUT", "5min")

from . import *
from . import API_THROTTLE_RATES, LOCAL_CACHE, REDIS_URL, env_bool, redis_url_with_db

if os.environ.get("TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DB_NAME"]}

if env_bool("REQUIRE_REDIS") and not REDIS_URL:
    raise ImproperlyConfigured("REQUIRE_REDIS is set but REDIS_URL is not")
USING_REDIS = bool(REDIS_URL)

# Each test process gets its own key prefix; the cache is cleared by prefix between tests.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CACHE_KEY_PREFIX = f"test-{os.getpid()}-{_worker}"
if USING_REDIS:
    CACHES = {
        "default": {
            "BACKEND": "prime_now.kernel.faultycache.RedisCache",
            "LOCATION": redis_url_with_db(REDIS_URL, 14),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    CELERY_BROKER_URL = redis_url_with_db(
        REDIS_URL, int(os.environ.get("TEST_REDIS_BROKER_DB", "13"))
    )
else:
    CACHES = {"default": {"BACKEND": "prime_now.kernel.faultycache.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT = None  # the URL's; the embedded defaults name the file broker
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CACHES["local"] = LOCAL_CACHE

# Tasks run inline unless a test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Limits no test reaches by accident (a test run is one client address and a few users); the
# tests of throttling set their own (tests/kernel/test_throttling.py).
API_THROTTLE_RATES = dict.fromkeys(API_THROTTLE_RATES, "100000/min")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
