"""Operators pull and restore levers in the admin, with a reason; the history shows it."""

import pytest
from django.test import Client

from prime_now.kernel.levers import lever_on
from prime_now.kernel.models import Lever, LeverChange
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db
SOME = "storefront-also-bought"


@pytest.fixture
def operator_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_list_shows_every_lever_with_its_state_and_owner(operator_client):
    response = operator_client.get("/admin/kernel/lever/")

    assert response.status_code == 200
    assert SOME in response.text and "storefront" in response.text


def test_a_change_from_the_form_needs_a_reason_and_is_audited(operator_client):
    lever = Lever.objects.get(name=SOME)
    url = f"/admin/kernel/lever/{lever.pk}/change/"

    refused = operator_client.post(url, {"changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0"})
    assert refused.status_code == 200 and LeverChange.objects.count() == 0
    accepted = operator_client.post(
        url,
        {"enabled": "", "reason": "recommendations are slow", "changes-TOTAL_FORMS": "0",
         "changes-INITIAL_FORMS": "0"},
    )  # fmt: skip

    assert accepted.status_code == 302
    change = LeverChange.objects.get()
    assert change.reason == "recommendations are slow" and change.actor is not None
    assert not lever_on(SOME)
    history = operator_client.get(url)
    assert "recommendations are slow" in history.text


def test_the_pull_action_pulls_the_selected_levers(operator_client):
    lever = Lever.objects.get(name=SOME)

    operator_client.post("/admin/kernel/lever/", {"action": "pull", "_selected_action": [lever.pk]})

    assert not lever_on(SOME)
    assert LeverChange.objects.get().reason == "pulled from the admin list"
