"""The API's schema and docs: public by default, staff only with API_DOCS_PUBLIC=False; and the
production settings pass Django's deployment checks with no warning."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = "/api/schema/"
DOCS = "/api/docs/"
OPENAPI_JSON = "application/vnd.oai.openapi+json"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def private_docs(settings):
    settings.API_DOCS_PUBLIC = False


def test_by_default_anyone_reads_the_schema_and_docs(client):
    assert client.get(SCHEMA, HTTP_ACCEPT=OPENAPI_JSON).status_code == 200
    assert client.get(DOCS).status_code == 200


def test_private_docs_refuse_the_schema_to_an_anonymous_caller(private_docs, client):
    response = client.get(SCHEMA, HTTP_ACCEPT=OPENAPI_JSON)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_private_docs_refuse_the_schema_to_a_customer(private_docs, client):
    client.force_login(UserFactory(roles=["customer"]))

    response = client.get(SCHEMA, HTTP_ACCEPT=OPENAPI_JSON)

    assert response.status_code == 403
    assert "staff" in response.json()["error"]["message"]


def test_private_docs_send_a_visitor_to_sign_in(private_docs, client):
    response = client.get(DOCS)

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/api/docs/"


def test_private_docs_are_served_to_staff(private_docs, client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(SCHEMA, HTTP_ACCEPT=OPENAPI_JSON).status_code == 200
    assert client.get(DOCS).status_code == 200


def _production(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run Python under the production settings (a database URL is needed, not a server)."""
    # Not what a test session may set for itself (a browser test's DJANGO_ALLOW_ASYNC_UNSAFE).
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "prime_now.settings.production",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://nobody@127.0.0.1:1/none",
        "SECRET_KEY": "p" * 30 + "q" * 30 + "0123456789",
        "ALLOWED_HOSTS": "primenow.example",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_the_production_settings_pass_the_deployment_checks_without_a_warning():
    checked = _production(
        "import django, sys; from django.core.management import call_command; django.setup(); "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )

    assert checked.returncode == 0, checked.stderr
    assert "no issues" in checked.stdout


def test_production_makes_the_docs_private_when_told():
    read = "import django; django.setup(); from django.conf import settings; "
    read += "print(settings.API_DOCS_PUBLIC)"

    assert _production(read, API_DOCS_PUBLIC="false").stdout.strip() == "False"
    assert _production(read).stdout.strip() == "True"
