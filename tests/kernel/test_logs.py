"""Structured logs: JSON lines with the request's id, and never a secret in them."""

import io
import json
import logging
import logging.config

import pytest
import structlog

from prime_now.logs import logging_config, scrub
from tests.delivery.facade.conftest import APPROVED, DECLINED, checkout_body, make_world
from tests.kernel.factories import PASSWORD, UserFactory

CARD = "4242424242424242"


@pytest.fixture
def log_output():
    """Every log line of the test, at DEBUG, rendered by the production formatter (JSON)."""
    stream = io.StringIO()
    config = logging_config(log_format="json", level="DEBUG")
    formatter = logging.config.dictConfigClass(config).configure_custom(  # type: ignore[attr-defined]
        dict(config["formatters"]["structured"])
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.django_db(transaction=True)
def test_no_card_number_payment_token_password_or_api_token_is_ever_logged(client, log_output):
    # Given a customer, a shop with stock, and an API token
    customer = UserFactory(roles=["customer"], password=PASSWORD)
    world = make_world(products=2)

    # When they sign in (right and wrong), get an API token, use a good and a bad one,
    # check out with an approved and a declined card, and a careless line logs secrets
    client.post("/signin/", {"username": customer.username, "password": "wrong-" + PASSWORD})
    client.post("/signin/", {"username": customer.username, "password": PASSWORD})
    token = client.post(
        "/api/v1/auth/token",
        {"username": customer.username, "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    client.get("/api/v1/me", headers={"Authorization": f"Token {token}"})
    client.get("/api/v1/me", headers={"Authorization": f"Token {token[::-1]}"})
    statuses = []
    for key, card in (("k1", APPROVED), ("k2", DECLINED)):
        response = client.post(
            "/api/v1/checkout",
            checkout_body(world, payment_token=card),
            content_type="application/json",
            headers={"Authorization": f"Token {token}", "Idempotency-Key": key},
        )
        statuses.append(response.status_code)
    careless = logging.getLogger("careless")
    careless.warning("paid with 4242 4242 4242 4242, password=%s", PASSWORD)
    careless.warning("header Authorization: Token %s", token)
    structlog.get_logger("careless").info(
        "checkout body", payment_token=APPROVED, card_number=CARD, password=PASSWORD
    )

    # Then there were log lines, and none holds any of the secrets
    output = log_output.getvalue()
    assert statuses == [201, 402]
    assert len(_lines(log_output)) > 10
    for secret in (PASSWORD, token, token[::-1], APPROVED, DECLINED, CARD, "4242 4242 4242 4242"):
        assert secret not in output, secret


@pytest.mark.django_db
def test_a_request_logs_json_lines_carrying_its_request_id_and_user(client, log_output):
    customer = UserFactory(roles=["customer"])
    client.force_login(customer)

    client.get("/api/v1/me")

    lines = [line for line in _lines(log_output) if line.get("request_id")]
    finished = [line for line in lines if line["event"] == "request_finished"]
    assert finished and finished[0]["user_id"] == customer.pk
    assert len({line["request_id"] for line in lines}) == 1


@pytest.mark.django_db(transaction=True)
def test_a_checkout_logs_its_order_number_and_hub(client, log_output):
    world = make_world(products=1)
    client.force_login(UserFactory(roles=["customer"]))

    response = client.post(
        "/api/v1/checkout",
        checkout_body(world),
        content_type="application/json",
        headers={"Idempotency-Key": "k"},
    )

    lines = _lines(log_output)
    finished = [line for line in lines if line["event"] == "request_finished"]
    assert finished[0]["order_number"] == response.json()["order_number"]
    assert finished[0]["hub"] == world.hub.code
    assert finished[0]["code"] == 201 and finished[0]["request_id"]


def test_scrub_masks_card_numbers_by_luhn_and_keeps_other_numbers():
    assert scrub("card 4000-0000-0000-0002 ok") == "card [card ...0002] ok"
    assert scrub("order 1234567890123") == "order 1234567890123"


def test_every_line_names_the_build_version(log_output, settings):
    settings.BUILD_VERSION = "v7-logs"

    logging.getLogger("django.request").warning("a library's line")
    structlog.get_logger("prime_now").info("our line")

    lines = _lines(log_output)
    assert len(lines) == 2 and {line["version"] for line in lines} == {"v7-logs"}
