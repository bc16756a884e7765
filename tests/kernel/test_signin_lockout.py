"""Sign-in protection (django-axes) on the API's token endpoint, the storefront's sign-in and
the admin login: repeated failures lock a username out from that address (429, Retry-After),
operators unlock it. With the auth family's throttle, a burst of guesses ends in 429 first."""

from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from prime_now.kernel.api.throttles import FamilyThrottle
from prime_now.kernel.signin import client_address
from tests.kernel.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"
LOCKOUT_SECONDS = "900"  # LOGIN_LOCKOUT_MINUTES' default, 15


@pytest.fixture(autouse=True)
def defaults(settings):
    """The production limits: 5 failures lock out for 15 minutes; 10 sign-ins a minute."""
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "auth": "10/min"}


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(FamilyThrottle, "timer", staticmethod(lambda: now[0]))
    return now


def token(client, username="ana", password="wrong", **extra):
    return client.post(TOKEN, {"username": username, "password": password}, **extra)


def test_a_burst_of_wrong_passwords_ends_in_429_with_retry_after_then_lockout(clock):
    user = UserFactory(username="ana")
    client = APIClient()

    # When 100 wrong passwords arrive in a burst
    answers = [token(client) for _ in range(100)]

    # Then the first few are refused as wrong, and the burst ends in 429s with Retry-After
    assert [a.status_code for a in answers[:4]] == [400] * 4
    assert {a.status_code for a in answers[4:]} == {429}
    assert all(int(a["Retry-After"]) >= 1 for a in answers[4:])
    assert answers[-1].json()["error"]["code"] == "throttled"
    # ... and once the throttle's minute is over, the account is still locked out: even the
    # right password is refused, for the lockout's time
    clock[0] += 61
    locked = token(client, password=PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"
    assert locked["Retry-After"] == LOCKOUT_SECONDS
    # ... until an operator unlocks it
    call_command("axes_reset_username", user.username, stdout=StringIO())
    assert token(client, password=PASSWORD).status_code == 200


def test_the_fifth_failure_locks_the_username_out_in_the_error_shape():
    UserFactory(username="ana")
    client = APIClient()
    for _ in range(4):
        assert token(client).status_code == 400

    fifth = token(client)

    assert fifth.status_code == 429
    assert fifth.json()["error"]["code"] == "locked_out"
    assert "15 minutes" in fifth.json()["error"]["message"]
    assert fifth["Retry-After"] == LOCKOUT_SECONDS


def test_a_lockout_is_for_that_username_from_that_address():
    UserFactory(username="ana")
    UserFactory(username="ben")
    for _ in range(5):
        token(APIClient())

    assert token(APIClient(), username="ben", password=PASSWORD).status_code == 200
    other_address = token(APIClient(), password=PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert other_address.status_code == 200
    assert token(APIClient(), password=PASSWORD).status_code == 429


def test_a_successful_sign_in_clears_the_failures():
    UserFactory(username="ana")
    client = APIClient()
    for _ in range(4):
        token(client)
    assert token(client, password=PASSWORD).status_code == 200

    for _ in range(4):
        assert token(client).status_code == 400
    assert token(client, password=PASSWORD).status_code == 200


def test_a_lockout_ends_after_its_time():
    UserFactory(username="ana")
    for _ in range(5):
        token(APIClient())
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert token(APIClient(), password=PASSWORD).status_code == 200


def test_the_storefront_sign_in_locks_out_too():
    UserFactory(username="ana")
    browser = Client()
    for _ in range(5):
        browser.post("/signin/", {"username": "ana", "password": "wrong"})

    response = browser.post("/signin/", {"username": "ana", "password": PASSWORD})

    assert response.status_code == 429
    assert response["Retry-After"] == LOCKOUT_SECONDS
    assert "Signing in is locked for now" in response.content.decode()
    assert "_auth_user_id" not in browser.session


def test_the_admin_login_locks_out_too():
    UserFactory(username="root", is_staff=True, is_superuser=True)
    browser = Client()
    for _ in range(5):
        browser.post("/admin/login/", {"username": "root", "password": "wrong"})

    response = browser.post("/admin/login/", {"username": "root", "password": PASSWORD})

    assert response.status_code == 429
    assert browser.get("/admin/").status_code == 302  # still signed out


def test_an_operator_sees_the_lockout_in_the_admin_and_unlocks_it(admin_client):
    UserFactory(username="ana")
    for _ in range(5):
        token(APIClient())

    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "ana" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="ana")
    admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert token(APIClient(), password=PASSWORD).status_code == 200


def test_behind_our_proxy_the_address_counted_is_the_one_the_proxy_saw(rf, settings):
    # Given one proxy of ours in front, and a client that forged its own X-Forwarded-For
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.1")

    # When the lockout asks who it is, then it is the address our proxy added (as the throttles)
    assert client_address(request) == "203.0.113.9"
