"""The ops dashboard: operators only; every figure read from the doors."""

from datetime import timedelta

import pytest
from django.utils import timezone

from insights import recording
from prime_now.kernel.levers import lever_set
from tests.fulfillment.factories import HubFactory
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/ops/dashboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_customer_is_refused(client):
    client.force_login(UserFactory(roles=["customer"]))

    assert client.get("/ops/dashboard/").status_code == 403


def test_an_operator_sees_the_drop_rate_its_reasons_and_the_chart(operator_client):
    # Given a hub, two refused attempts and a pulled lever
    hub = HubFactory()
    now = timezone.now()
    for n, reason in enumerate(("window_full", "payment_declined")):
        recording.refused(reference=f"c:{n}", hub_code=hub.code, reason=reason, at=now)
    lever_set("storefront-also-bought", enabled=False, reason="test")

    # When an operator opens the dashboard
    response = operator_client.get("/ops/dashboard/")

    # Then it shows the rate, the reasons, the hub, the lever, and an inline SVG chart
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-figure="drop-1h-counts">2 of 2 attempts' in page
    assert 'data-reason="window_full"' in page and 'data-reason="payment_declined"' in page
    assert f'data-hub="{hub.code}"' in page
    assert "storefront-also-bought" in page
    assert 'src="data:image/svg+xml;base64,' in page
    assert '<meta http-equiv="refresh" content="30">' in page


def test_an_old_attempt_counts_in_24_hours_but_not_in_the_last_hour(operator_client):
    earlier = timezone.now() - timedelta(hours=5)
    recording.refused(reference="c:old", hub_code="", reason="out_of_stock", at=earlier)

    page = operator_client.get("/ops/dashboard/").content.decode()

    assert 'data-figure="drop-1h-counts">0 of 0 attempts' in page
    assert 'data-figure="drop-24h-counts">1 of 1 attempts' in page
