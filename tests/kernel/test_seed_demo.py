import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.http import HttpRequest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_seed_demo_creates_the_roles_and_a_demo_operator_who_can_sign_in(client):
    call_command("seed_demo", small=True, stdout=None)

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "customer",
        "courier",
        "picker",
        "operator",
        "dispatcher",
        "hub_manager",
        "support",
    }
    # A sign-in comes with its request (django-axes counts failures per address).
    assert client.login(request=HttpRequest(), username="operator", password="prime-now-demo")
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_demo_has_no_superuser_and_its_operator_holds_the_operator_role():
    call_command("seed_demo", small=True, stdout=None)

    operator = get_user_model().objects.get(username="operator")
    assert not get_user_model().objects.filter(is_superuser=True).exists()
    assert operator.is_staff and operator.roles == ["operator"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "role"),
    [("dispatcher", "dispatcher"), ("support", "support"), ("manager-sea-downtown", "hub_manager")],
)
def test_the_demo_has_a_login_for_each_staff_role(client, username, role):
    call_command("seed_demo", small=True, stdout=None)

    user = get_user_model().objects.get(username=username)
    assert role in user.roles
    assert client.login(request=HttpRequest(), username=username, password="prime-now-demo")
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_an_operator_made_superuser_by_an_older_demo_is_superuser_no_more():
    get_user_model().objects.create_superuser("operator", "operator@example.com", "x")

    call_command("seed_demo", small=True, stdout=None)

    assert not get_user_model().objects.get(username="operator").is_superuser


@pytest.mark.django_db
def test_seed_demo_run_twice_adds_nothing():
    call_command("seed_demo", small=True)
    users = get_user_model().objects.count()

    call_command("seed_demo", small=True)

    assert get_user_model().objects.count() == users


def test_seed_demo_refuses_to_run_under_the_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "prime_now.settings.production",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",  # never reached (no checks run)
        "SECRET_KEY": "s" * 64,
        "ALLOWED_HOSTS": "primenow.example",
    }

    ran = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--small", "--skip-checks"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert ran.returncode != 0
    assert "seed_demo is refused under the production settings" in ran.stderr
