import pytest
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from prime_now.kernel.errors import ConflictError
from tests.kernel.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


class EchoInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class EchoApi(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        EchoInput(data=request.data).is_valid(raise_exception=True)
        raise ConflictError("Window is full.", code="window_full", fields={"window_id": 7})


class BoomApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("a bug")


urlpatterns = [path("api/v1/echo", EchoApi.as_view()), path("api/v1/boom", BoomApi.as_view())]
handler404 = "prime_now.storefront.views.not_found"


def test_an_anonymous_api_call_gets_401_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_a_user_gets_a_token_and_reads_who_they_are_with_it(api_client):
    UserFactory(username="ana", roles=["customer", "courier"])

    signed_in = api_client.post("/api/v1/auth/token", {"username": "ana", "password": PASSWORD})
    token = signed_in.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/v1/me").json()

    assert me["username"] == "ana"
    assert me["roles"] == ["courier", "customer"]


def test_a_wrong_password_gets_a_clear_error(api_client):
    UserFactory(username="ana")

    response = api_client.post("/api/v1/auth/token", {"username": "ana", "password": "nope"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }


@pytest.mark.urls("tests.kernel.test_api_base")
def test_invalid_input_names_the_field(api_client):
    response = api_client.post("/api/v1/echo", {"quantity": 0}, format="json")

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert "quantity" in body["fields"]


@pytest.mark.urls("tests.kernel.test_api_base")
def test_an_application_error_keeps_its_code_status_and_fields(api_client):
    response = api_client.post("/api/v1/echo", {"quantity": 2}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "window_full", "message": "Window is full.", "fields": {"window_id": 7}}
    }


@pytest.mark.urls("tests.kernel.test_api_base")
def test_an_unexpected_error_is_a_json_500_without_details(api_client):
    response = api_client.get("/api/v1/boom")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "a bug" not in response.content.decode()


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Prime Now API"
    assert "/api/v1/me" in schema.json()["paths"]
    assert docs.status_code == 200


def test_the_schema_documents_the_device_token_scheme(client):
    # Given the served schema
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    # Then the device token is a documented security scheme, required by the token's users
    token = schema["components"]["securitySchemes"]["tokenAuth"]
    assert (token["type"], token["in"], token["name"]) == ("apiKey", "header", "Authorization")
    assert {"tokenAuth": []} in schema["paths"]["/api/v1/me"]["get"]["security"]


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "object-src 'none'" in policy


def test_the_health_check_reports_ok(client):
    assert client.get("/healthz").json()["status"] == "ok"
