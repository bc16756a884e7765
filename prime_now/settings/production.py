"""Production: everything secure, nothing defaulted that must be secret.

    DJANGO_SETTINGS_MODULE=prime_now.settings.production SECRET_KEY=... ALLOWED_HOSTS=... \
        python manage.py check --deploy --fail-level WARNING
"""

import os

from django.core.exceptions import ImproperlyConfigured

# Checked before the base settings load: without DATABASE_URL they would start the embedded
# PostgreSQL, which is for development and tests only.
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("Set DATABASE_URL in production (the embedded server is for dev).")

from . import *
from . import env_bool, smtp_mailers

DEBUG = False
# Notification emails go out by SMTP (a relay on this host unless EMAIL_HOST says otherwise).
MAILERS = smtp_mailers(os.environ.get("EMAIL_HOST", "localhost"))
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY (at least 50 random characters) in production.")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes ask over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True

# seed_demo refuses to run: its known logins (operator / prime-now-demo ...) never reach production.
DEMO_DATA_ALLOWED = False

# Fault injection is refused in production unless explicitly allowed (a game day on a
# production-like stack sets FAULT_INJECTION_ALLOWED=1).
FAULT_INJECTION_ALLOWED = env_bool("FAULT_INJECTION_ALLOWED", False)
