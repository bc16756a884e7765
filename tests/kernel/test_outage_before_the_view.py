"""A database outage met before the view (a middleware loading the signed-in user) or after
it (saving the session) is a 503 with Retry-After in the error shape, as it is in a view:
the API answers JSON, the storefront an HTML page. Any other error stays a 500."""

import pytest
from django.db import connection
from django.test import Client

from prime_now.storefront.views.errors import server_error
from tests.kernel.factories import UserFactory


@pytest.fixture
def signed_in() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(roles=["customer"]))
    return client


@pytest.fixture
def database_down():
    """The database stops answering: every new connection is refused (nothing listens on
    port 1), as after a failover or a crash; it answers again after the test."""
    settings_dict = connection.settings_dict
    saved = settings_dict["HOST"], settings_dict["PORT"]
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", "1"
    yield
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = saved


@pytest.mark.django_db(transaction=True)
def test_a_storefront_page_during_a_database_outage_is_an_html_503_page(signed_in, database_down):
    response = signed_in.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    assert b"We cannot take this request right now" in response.content


@pytest.mark.django_db(transaction=True)
def test_an_api_call_during_a_database_outage_is_a_503_in_the_error_shape(signed_in, database_down):
    response = signed_in.get("/api/v1/orders")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "service_unavailable"


def test_an_error_that_is_not_an_outage_is_still_a_500(rf):
    try:
        raise RuntimeError("a bug in a middleware")
    except RuntimeError:
        response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert not response.has_header("Retry-After")
