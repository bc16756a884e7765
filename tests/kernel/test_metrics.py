import pytest

pytestmark = pytest.mark.django_db


def test_metrics_count_requests_by_route_not_by_path(client):
    client.get("/healthz")

    body = client.get("/metrics").content.decode()

    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in body


def test_metrics_are_refused_to_an_anonymous_visitor_from_outside(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 403
