"""Settings from the environment (12-factor).

With nothing set the project runs on embedded parts: an embedded PostgreSQL server with its
data in .run/ (prime_now.embedded_db), a local cache and a Celery broker on kombu's filesystem
transport (works across processes, needs no server). With DATABASE_URL and REDIS_URL it runs on
those servers. Production adds prime_now.settings.production.
"""

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import django_stubs_ext
from django.utils.csp import CSP

from prime_now import embedded_db, version
from prime_now.logs import configure_structlog, logging_config

# Django's generic classes (ModelAdmin, fields, ...) take type arguments at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RUN_DIR = Path(os.environ.get("PRIME_NOW_RUN_DIR", BASE_DIR / ".run"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def redis_url_with_db(url: str, db: int) -> str:
    """The same Redis server, another database number (Django's cache and Celery are kept apart)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def run_secret_key(run_dir: Path) -> str:
    """This checkout's own secret key, in run_dir/secret_key: made once (random, readable by
    its owner only), then reused, so sessions survive restarts. Never committed (.run/ is
    ignored). Processes starting together agree: the file appears whole or not at all."""
    path = run_dir / "secret_key"
    if not path.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        draft = run_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(8)}"
        draft.write_text(secrets.token_urlsafe(64))
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # fails if another process made it first: theirs is kept
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


# Production sets SECRET_KEY (prime_now/settings/production.py insists); elsewhere each checkout
# makes its own in .run/ (`make run` included): no key is shared through the code. Not under
# PRIME_NOW_RUN_DIR: every process of the checkout (tests' servers and workers, with run
# directories of their own) signs and checks with the same key.
SECRET_KEY = os.environ.get("SECRET_KEY") or run_secret_key(BASE_DIR / ".run")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "rest_framework",
    "knox",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_structlog",
    "prime_now.kernel",
    "catalog",
    "fulfillment",
    "ordering",
    "delivery",
    "insights",
    "notifications",
    "prime_now.storefront",
    "prime_now",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Binds a request id (and the user) to every log line of the request and its tasks.
    "django_structlog.middlewares.RequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "prime_now.metrics.RequestMetricsMiddleware",
    # Answers a sign-in attempt while locked out (prime_now/kernel/signin.py).
    "axes.middleware.AxesMiddleware",
    # Last, so it is the first to see a view's exception: a lost database or broker is a 503.
    "prime_now.kernel.outage.OutageMiddleware",
]
# /metrics answers a scraper sending `Authorization: Bearer <METRICS_TOKEN>` and staff sessions.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# The build this process runs (git describe, or what the release tool wrote; BUILD_VERSION
# overrides): /healthz, /readyz, the build_info metric, every log line and the admin's footer.
BUILD_VERSION = version.describe(BASE_DIR)
# /readyz: how old beat's last tick and the oldest unrelayed outbox event may be (seconds).
READYZ_BEAT_MAX_AGE = float(os.environ.get("READYZ_BEAT_MAX_AGE", "60"))
READYZ_OUTBOX_MAX_LAG = float(os.environ.get("READYZ_OUTBOX_MAX_LAG", "60"))

ROOT_URLCONF = "prime_now.urls"
WSGI_APPLICATION = "prime_now.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Before the apps' templates: the admin's base_site.html with the version in its footer.
        "DIRS": [BASE_DIR / "prime_now" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "prime_now.version.context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# PostgreSQL, always: the server at DATABASE_URL, else the embedded one under RUN_DIR (started by
# the first process that needs it, reused by the others; `make stop` stops it).
# Parameters bound by the server, and a statement run 5 times on a connection is prepared:
# PostgreSQL then skips parsing and planning it (the checkout's and dispatch's statements are
# large CTEs; planning them cost about a quarter of the server's CPU per checkout).
# Fences on every connection: no statement runs past DB_STATEMENT_TIMEOUT, no lock is waited
# for past DB_LOCK_TIMEOUT, and a transaction left idle (a process stuck between its
# statements) is ended by the server after DB_IDLE_IN_TRANSACTION_TIMEOUT, releasing its
# locks. Batch commands raise the statement timeout for their own session (prime_now.kernel.batch).
DB_STATEMENT_TIMEOUT = os.environ.get("DB_STATEMENT_TIMEOUT", "30s")
DB_LOCK_TIMEOUT = os.environ.get("DB_LOCK_TIMEOUT", "10s")
DB_IDLE_IN_TRANSACTION_TIMEOUT = os.environ.get("DB_IDLE_IN_TRANSACTION_TIMEOUT", "60s")
POSTGRES_OPTIONS = {
    "server_side_binding": True,
    "prepare_threshold": 5,
    "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT_SECONDS", "5")),
    "options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT} -c lock_timeout={DB_LOCK_TIMEOUT} "
    f"-c idle_in_transaction_session_timeout={DB_IDLE_IN_TRANSACTION_TIMEOUT}",
}
RUN_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": {
        **(
            dj_database_url.parse(DATABASE_URL)
            if DATABASE_URL
            else embedded_db.database_settings(RUN_DIR)
        ),
        "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": POSTGRES_OPTIONS,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -----------------------------------------------------------------------
# Redis when REDIS_URL is set (Django's own Redis cache, kombu's own Redis transport), else a
# file cache and kombu's filesystem transport (works across processes, needs no server).
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES: dict[str, dict[str, Any]]
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any]
# Every Redis client answers or gives up quickly: a Redis that stops answering must not hold
# a request worker (the cache then degrades, prime_now.kernel.cache; the broker's publish
# fails fast and the outbox relays later).
REDIS_TIMEOUT_SECONDS = float(os.environ.get("REDIS_TIMEOUT_SECONDS", "0.5"))
REDIS_CLIENT_OPTIONS = {
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_timeout": REDIS_TIMEOUT_SECONDS,
}
# Task time limits: soft (the task gets SoftTimeLimitExceeded and fails, to be retried or
# dead-lettered) and hard (its worker child is killed). Every task here takes seconds.
TASK_SOFT_TIME_LIMIT_SECONDS = int(os.environ.get("TASK_SOFT_TIME_LIMIT_SECONDS", "45"))
TASK_TIME_LIMIT_SECONDS = int(os.environ.get("TASK_TIME_LIMIT_SECONDS", "60"))
# Redis hands an unacknowledged task (its worker died) to another worker after this long:
# just above the hard limit, so a running task is never handed out twice, and a killed
# worker's tasks come back within minutes, not an hour. Workers look for such tasks every
# 5 s. A task's countdown (a retry's backoff) must stay below it, or Redis would hand the
# waiting task out a second time.
CELERY_VISIBILITY_TIMEOUT_SECONDS = TASK_TIME_LIMIT_SECONDS + 15
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "prime_now.kernel.cache.FailSafeRedisCache",
            "LOCATION": redis_url_with_db(REDIS_URL, int(os.environ.get("REDIS_CACHE_DB", "1"))),
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "pn"),
            "OPTIONS": REDIS_CLIENT_OPTIONS,
        }
    }
    CELERY_BROKER_URL = redis_url_with_db(REDIS_URL, int(os.environ.get("REDIS_BROKER_DB", "0")))
    # kombu's Redis transport, with a channel that closes cleanly once Redis is gone: without
    # it a worker now and then died instead of reconnecting after a Redis restart.
    CELERY_BROKER_TRANSPORT: str | None = "prime_now.kernel.redis_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        # Above the workers' 1 s BRPOP, which a shorter socket timeout would cut off.
        "socket_timeout": max(REDIS_TIMEOUT_SECONDS, 5.0),
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "prime_now.kernel.faultycache.FileBasedCache",
            "LOCATION": str(RUN_DIR / "cache"),
        }
    }
    _broker_dir = RUN_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    # kombu's, with each message written whole before a worker can take it (kernel/file_broker).
    CELERY_BROKER_TRANSPORT = "prime_now.kernel.file_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu looks for new files once a second by default: a worker that has taken its
        # prefetch (acks late, prefetch 1 per child) waits that long for the next ones, so it
        # ran at most 2 tasks a second, and a game day's checkouts left 1,377 tasks waiting.
        "polling_interval": float(os.environ.get("FILE_BROKER_POLL_SECONDS", "0.05")),
    }
# Each process's own small cache, for answers that may be a few seconds old anyway: no round
# trip to Redis for them on the checkout path.
LOCAL_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "process",
    "OPTIONS": {"MAX_ENTRIES": 10_000},
}
CACHES["local"] = LOCAL_CACHE

# --- Celery ---------------------------------------------------------------------------------
# Every task in this project is idempotent (it re-reads state under a lock and returns early
# when already done), so all of them ack late and are re-queued if a worker dies mid-task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Tasks reuse their database connection (prime_now/celery.py says why and how); Celery still
# renews it after this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
# A publish the broker refuses fails at once (the outbox keeps the event; beat relays it).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_SOFT_TIME_LIMIT = TASK_SOFT_TIME_LIMIT_SECONDS
CELERY_TASK_TIME_LIMIT = TASK_TIME_LIMIT_SECONDS
# A task whose worker died this many times (the message came back each time) is dead-lettered
# instead of run again: a task that crashes its worker would otherwise crash them forever.
TASK_MAX_DELIVERIES = int(os.environ.get("TASK_MAX_DELIVERIES", "3"))
# kernel.deliver_event: how often a failing handler is retried (backoff 1, 2, 4 ... seconds,
# at most EVENT_RETRY_BACKOFF_MAX_SECONDS apart, below the visibility timeout: about 3
# minutes in all by default) before its event is dead-lettered.
EVENT_MAX_RETRIES = int(os.environ.get("EVENT_MAX_RETRIES", "8"))
EVENT_RETRY_BACKOFF_MAX_SECONDS = min(
    int(os.environ.get("EVENT_RETRY_BACKOFF_MAX_SECONDS", "60")),
    CELERY_VISIBILITY_TIMEOUT_SECONDS - 10,
)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_ALL = (
    "default", "kernel", "catalog", "fulfillment", "ordering", "delivery", "insights",
    "notifications",
)  # fmt: skip
CELERY_TASK_ROUTES = {f"{queue}.*": {"queue": queue} for queue in CELERY_TASK_QUEUES_ALL[1:]}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(RUN_DIR / "celerybeat-schedule")
# Beat's own scheduler, recording each tick for /readyz.
CELERY_BEAT_SCHEDULER = "prime_now.health:RecordingScheduler"
# A static schedule (django-celery-beat does not support Django 6.1 yet).
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {"task": "kernel.relay_outbox", "schedule": 10.0},
    "purge-outbox": {"task": "kernel.purge_outbox", "schedule": 3600.0},
    "expire-stock-holds": {"task": "fulfillment.expire_reservations", "schedule": 30.0},
    "expire-window-holds": {"task": "delivery.expire_window_holds", "schedule": 30.0},
    "generate-windows": {"task": "delivery.generate_windows", "schedule": 6 * 3600.0},
    "sweep-offers": {"task": "delivery.sweep_offers", "schedule": 5.0},
    "watch-late-orders": {"task": "delivery.watch_late_orders", "schedule": 60.0},
    "expire-carts": {"task": "ordering.expire_carts", "schedule": 3600.0},
    "share-popularity": {"task": "ordering.share_popularity", "schedule": 3600.0},
    "purge-idempotency-keys": {"task": "delivery.purge_idempotency_keys", "schedule": 3600.0},
    "reconcile": {
        "task": "delivery.reconcile",
        "schedule": float(os.environ.get("RECONCILE_INTERVAL_SECONDS", "60")),
    },
    "mark-lost-orders": {"task": "insights.mark_lost", "schedule": 60.0},
    "shed-load": {"task": "kernel.shed_load", "schedule": 5.0},
    "send-pending-emails": {"task": "notifications.send_pending_emails", "schedule": 300.0},
}

# --- Email (notifications) ------------------------------------------------------------------
# The console in development (messages show in the worker's output); SMTP when EMAIL_HOST is set
# (production always uses SMTP: prime_now/settings/production.py).


def smtp_mailers(host: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": host,
                "port": int(os.environ.get("EMAIL_PORT", "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 10,
            },
        }
    }


if os.environ.get("EMAIL_HOST"):
    MAILERS = smtp_mailers(os.environ["EMAIL_HOST"])
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Prime Now <orders@primenow.test>")
# Where links in emails point.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "kernel.User"
# django-axes first: it refuses a locked-out sign-in before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in protection (prime_now/kernel/signin.py): this many failures for one username from one
# address lock that pair out for LOGIN_LOCKOUT_MINUTES; a success clears the count. Operators
# unlock in the admin (Axes → Access attempts) or with `manage.py axes_reset_username`.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "prime_now.kernel.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "prime_now.kernel.signin.client_address"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "storefront:signin"
LOGIN_REDIRECT_URL = "storefront:home"
LOGOUT_REDIRECT_URL = "storefront:home"

# --- I18N, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
CURRENCY = os.environ.get("CURRENCY", "USD")
# How long the catalog keeps public read pages in the shared cache (0: no cache).
CATALOG_CACHE_SECONDS = int(os.environ.get("CATALOG_CACHE_SECONDS", "30"))

# Uploaded and generated files (product pictures), through Django's storage API.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", RUN_DIR / "media"))
MEDIA_URL = "/media/"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security -------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", "https:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call gets 401 with a WWW-Authenticate header.
        "prime_now.kernel.api.auth.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "prime_now.kernel.api.schema.ApiAutoSchema",
    # The API reads JSON bodies only (a proof upload reads multipart): one media type to
    # document and to validate.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "prime_now.kernel.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["prime_now.kernel.api.throttles.FamilyThrottle"],
    # The client address is REMOTE_ADDR, unless this many proxies in front of the web
    # processes add X-Forwarded-For (set NUM_PROXIES=1 behind one load balancer): a client's
    # own X-Forwarded-For must not choose its throttle bucket.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}
# Request limits per endpoint family and caller (prime_now/kernel/api/throttles.py): per
# partner API key, else per signed-in user, else per client address. "N/s", "N/min", "N/hour".
API_THROTTLE_ENABLED = env_bool("API_THROTTLE_ENABLED", True)
API_THROTTLE_RATES = {
    # Sign-in, logout: a password guesser's budget (django-axes locks the account out too).
    "auth": os.environ.get("THROTTLE_AUTH", "10/min"),
    # The public catalog and promise reads (anonymous apps share a carrier's address).
    "reads": os.environ.get("THROTTLE_READS", "1200/min"),
    "checkout": os.environ.get("THROTTLE_CHECKOUT", "30/min"),
    # Couriers' location pings (the dispatcher also refuses pings under
    # DISPATCH_PING_MIN_INTERVAL_SECONDS apart, per courier, in the database).
    "courier-pings": os.environ.get("THROTTLE_COURIER_PINGS", "120/min"),
    # Every other API view.
    "api": os.environ.get("THROTTLE_API", "600/min"),
    # The storefront's sign-up form, per client address (a script making accounts).
    "sign-ups": os.environ.get("THROTTLE_SIGN_UPS", "20/hour"),
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

# seed_demo runs (production settings turn it off: the demo's logins are public knowledge).
DEMO_DATA_ALLOWED = True

# The OpenAPI schema (/api/schema/) and docs (/api/docs/): public, or staff only when False.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", True)

# Users' API tokens (django-rest-knox): hashed, one per device, expiring after API_TOKEN_TTL_DAYS
# without use (each use moves the expiry forward, at most once a minute), never living longer
# than API_TOKEN_MAX_DAYS.
KNOX_TOKEN_MODEL = "kernel.DeviceToken"
# knox's and djangorestframework-api-key's own migrations would create their unused default
# tables (the project's are kernel.DeviceToken and kernel.PartnerKey).
MIGRATION_MODULES = {"knox": None, "rest_framework_api_key": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=int(os.environ.get("API_TOKEN_TTL_DAYS", "14"))),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=int(os.environ.get("API_TOKEN_MAX_DAYS", "90"))),
    "MIN_REFRESH_INTERVAL": 60,
    "TOKEN_PREFIX": "pn_",
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Prime Now API",
    "DESCRIPTION": "Ultrafast local delivery: catalog, cart, checkout, tracking and courier APIs."
    '\n\nBodies are JSON. Every error answers `{"error": {"code", "message", "fields"}}`'
    " (the `Error` schema); 429 and 503 carry `Retry-After`. Text never contains NUL characters"
    " (refused with 400).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body is the same shape as its PUT/POST body (its required fields are required).
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "prime_now.kernel.api.schema.input_constraints",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several fields are named "kind"; each choice set gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "NotificationKindEnum": "notifications.kinds.NotificationKind",
        "ProblemKindEnum": "ordering.statuses.ProblemKind",
        "ProofKindEnum": "delivery.models.transport.DeliveryJob.ProofKind",
        "SubstitutionEnum": "ordering.statuses.SubstitutionChoice",
        "WindowKindEnum": "delivery.models.facade.WindowKind",
    },
}

# --- Logging --------------------------------------------------------------------------------
# structlog through django-structlog (prime_now/logs.py): JSON lines, or `LOG_FORMAT=console`.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
configure_structlog()
# The request id (and user) travel with every task a request enqueues, events' included.
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# Workers and beat log through LOGGING above, not Celery's own plain-text handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Client addresses are personal data: kept out of the logs.
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# One line per request (request_finished, with its status) and per task (succeeded or failed)
# at INFO; their start lines and each enqueue at DEBUG (they cost a checkout about 3% of its
# CPU, docs/performance.md).
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_CELERY_TASK_START_LOG_LEVEL = logging.DEBUG

# --- ordering: payments -----------------------------------------------------------------------
# Every call to the payment provider returns or gives up within this (below the database's idle
# in-transaction timeout: the authorization runs inside the order's transaction).
ORDERING_PAYMENT_TIMEOUT_SECONDS = float(os.environ.get("PAYMENT_TIMEOUT_SECONDS", "10"))
# How long the sandbox's `tok_slow` card takes to answer (the fault drills' slow processor).
ORDERING_SANDBOX_SLOW_SECONDS = float(os.environ.get("SANDBOX_SLOW_SECONDS", "5"))

# --- delivery: dispatch (couriers, offers, trips) --------------------------------------------
DELIVERY_DISPATCH_OFFER_SECONDS = int(os.environ.get("DISPATCH_OFFER_SECONDS", "30"))
DELIVERY_DISPATCH_MAX_MISSES = int(os.environ.get("DISPATCH_MAX_MISSES", "5"))
DELIVERY_DISPATCH_PING_MIN_INTERVAL_SECONDS = float(
    os.environ.get("DISPATCH_PING_MIN_INTERVAL_SECONDS", "1")
)
DELIVERY_DISPATCH_PING_STALE_SECONDS = int(os.environ.get("DISPATCH_PING_STALE_SECONDS", "120"))
DELIVERY_DISPATCH_FORFEIT_CUTOFF_MINUTES = int(
    os.environ.get("DISPATCH_FORFEIT_CUTOFF_MINUTES", "45")
)
DELIVERY_DISPATCH_GEOFENCE_METERS = float(os.environ.get("DISPATCH_GEOFENCE_METERS", "150"))

# --- delivery: reconciliation (delivery/facade/reconcile.py) ----------------------------------
# Work younger than the grace period is in flight and left alone; older than the look-back,
# settled or an operator's. An authorization is an orphan after its own grace (above the
# payment and idle-in-transaction timeouts); an order not dispatched this long after its
# window ended is cancelled.
RECONCILE_GRACE_SECONDS = int(os.environ.get("RECONCILE_GRACE_SECONDS", "120"))
RECONCILE_LOOKBACK_HOURS = int(os.environ.get("RECONCILE_LOOKBACK_HOURS", "24"))
RECONCILE_AUTHORIZATION_GRACE_SECONDS = int(
    os.environ.get("RECONCILE_AUTHORIZATION_GRACE_SECONDS", "600")
)
RECONCILE_STUCK_MINUTES = int(os.environ.get("RECONCILE_STUCK_MINUTES", "120"))
# --- resilience: fault injection, circuit breakers, load shedding (docs/runbook.md) --------
# Faults may be injected (manage.py fault, the admin, game days); production refuses unless set.
FAULT_INJECTION_ALLOWED = env_bool("FAULT_INJECTION_ALLOWED", True)
# Per target (catalog, fulfillment, ordering, delivery, payment): failures in a row that open
# the breaker, seconds before a trial call, and the time budget of one call (slower counts as
# a failure). Delivery's door calls other doors (checkout), so its budget is theirs and more.
BREAKERS: dict[str, dict[str, float]] = {
    "delivery": {"budget_ms": 3000},
    "payment": {"budget_ms": 2000},
    # The precise promise: 3 answers past DELIVERY_PROMISE_BUDGET_MS and the stand-in answers
    # at once for 5 s, then one request tries the precise promise again.
    "promise": {"fail_max": 3, "reset_seconds": 5},
}
# Automatic load shedding (prime_now/shedding.py, beat every 5 s): a rule pulls its levers
# after `for_checks` checks above `above`, restores them after `restore_checks` below `below`.
SHEDDING_ENABLED = env_bool("SHEDDING_ENABLED", True)
SHEDDING_RULES: list[dict[str, Any]] = [
    {
        "name": "promise-slow",
        "signal": "p99_ms",
        "route": "/api/v1/delivery/promise",
        "above": float(os.environ.get("SHED_PROMISE_P99_MS", "1000")),
        "below": 300.0,
        "levers": ["storefront-next-window", "storefront-also-bought"],
    },
    {
        "name": "pages-slow",
        "signal": "p99_ms",
        "above": float(os.environ.get("SHED_ANY_P99_MS", "2000")),
        "below": 500.0,
        "for_checks": 2,
        "levers": [
            "storefront-also-bought",
            "storefront-search-suggestions",
            "catalog-typo-search",
            "storefront-images",
        ],
    },
    {
        "name": "errors",
        "signal": "error_rate",
        "above": float(os.environ.get("SHED_ERROR_RATE", "0.05")),
        "below": 0.01,
        "levers": ["storefront-also-bought", "storefront-availability-badges"],
    },
    {
        "name": "database-busy",
        "signal": "db_connections",
        "above": float(os.environ.get("SHED_DB_CONNECTIONS", "0.8")),
        "below": 0.5,
        "levers": [
            "storefront-availability-badges",
            "catalog-typo-search",
            "fulfillment-reports",
            "delivery-windows-ahead",
        ],
    },
    {
        "name": "queues-backed-up",
        "signal": "queue_depth",
        "above": float(os.environ.get("SHED_QUEUE_DEPTH", "1000")),
        "below": 100.0,
        "levers": ["fulfillment-reports", "delivery-windows-ahead"],
    },
    {
        "name": "outbox-lagging",
        "signal": "outbox_lag_seconds",
        "above": float(os.environ.get("SHED_OUTBOX_LAG_SECONDS", "60")),
        "below": 10.0,
        "levers": ["delivery-windows-ahead", "fulfillment-reports", "delivery-courier-batching"],
    },
]
# The promise waits this long for a precise answer, then answers from the stand-in provider.
DELIVERY_PROMISE_BUDGET_MS = int(os.environ.get("DELIVERY_PROMISE_BUDGET_MS", "200"))

# --- storefront -------------------------------------------------------------------------------
# Every storefront page with an address reads the session: read it from the cache, write through.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Widget threads per web process (page assembly runs a page's widgets side by side).
STOREFRONT_WIDGET_THREADS = int(os.environ.get("STOREFRONT_WIDGET_THREADS", "8"))
