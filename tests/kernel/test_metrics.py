import pytest

pytestmark = pytest.mark.django_db


def test_metrics_count_requests_by_route_not_by_path(client):
    client.get("/healthz")

    body = client.get("/metrics").content.decode()

    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in body


def test_metrics_are_refused_to_an_anonymous_visitor_from_outside(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 403


def test_metrics_show_each_levers_state(client):
    from prime_now.kernel.levers import lever_set

    lever_set("storefront-also-bought", enabled=False, reason="test")

    body = client.get("/metrics").content.decode()

    shed = 'lever_on{criticality="low",lever="storefront-also-bought",owner="storefront"} 0.0'
    served = 'lever_on{criticality="low",lever="storefront-images",owner="storefront"} 1.0'
    assert shed in body and served in body
    assert 'lever_changes_total{how="manual",lever="storefront-also-bought",state="off"}' in body
