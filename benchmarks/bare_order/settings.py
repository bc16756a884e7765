"""Just enough Django for one DRF view: no auth, sessions, admin or middleware."""

import os

import dj_database_url

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["rest_framework", "benchmarks.bare_order"]
MIDDLEWARE = []
ROOT_URLCONF = "benchmarks.bare_order.urls"
WSGI_APPLICATION = "benchmarks.bare_order.wsgi.application"

# Connections kept as prime_now.settings keeps them (the same variable and default), so both
# servers pay the same for connecting; Django's default OPTIONS otherwise.
DATABASES = {
    "default": dj_database_url.config(
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
