import pytest

from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_metrics_count_requests_by_route_not_by_path(client, metrics_token):
    client.get("/healthz")

    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()

    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in body


def test_a_scraper_with_the_token_reads_the_state_gauges_and_the_build(
    client, metrics_token, settings
):
    settings.BUILD_VERSION = "v1.2.3-4-gabcdef0"
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    body = response.content.decode()
    assert response.status_code == 200
    assert "outbox_pending_events 0.0" in body
    assert 'prime_now_build_info{version="v1.2.3-4-gabcdef0"} 1.0' in body
    assert 'celery_queue_length{queue="delivery"}' in body


def test_a_staff_session_reads_the_metrics(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get("/metrics").status_code == 200


def test_a_local_anonymous_visitor_is_refused(client, metrics_token):
    # Behind a proxy on the same host every visitor comes from loopback
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_refused(client, metrics_token):
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")

    assert response.status_code == 401


def test_no_token_configured_refuses_an_empty_bearer(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_a_signed_in_customer_is_refused(client):
    client.force_login(UserFactory())

    assert client.get("/metrics").status_code == 403


def test_metrics_show_each_levers_state(client, metrics_token):
    from prime_now.kernel.levers import lever_set

    lever_set("storefront-also-bought", enabled=False, reason="test")

    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()

    shed = 'lever_on{criticality="low",lever="storefront-also-bought",owner="storefront"} 0.0'
    served = 'lever_on{criticality="low",lever="storefront-images",owner="storefront"} 1.0'
    assert shed in body and served in body
    assert 'lever_changes_total{how="manual",lever="storefront-also-bought",state="off"}' in body
