import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command


@pytest.mark.django_db
def test_seed_demo_creates_the_roles_and_a_demo_operator_who_can_sign_in(client):
    call_command("seed_demo", small=True, stdout=None)

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "customer",
        "courier",
        "picker",
        "operator",
    }
    assert client.login(username="operator", password="prime-now-demo")
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_seed_demo_run_twice_adds_nothing():
    call_command("seed_demo", small=True)
    users = get_user_model().objects.count()

    call_command("seed_demo", small=True)

    assert get_user_model().objects.count() == users
