"""The OpenAPI schema says exactly what the API does, as each kind of caller sees it.

schemathesis (`st run` with every check, as `--checks all`: no server error, every status
code, content type, header and body as documented, valid input accepted, invalid input
refused, authentication not ignored, ...) runs its coverage, fuzzing and stateful phases
over the schema the server serves (/api/schema/), through a real HTTP server (pytest-django's
live server on this test's database), as a customer, a courier, a picker and a partner's API
key. Its settings, and the reason for each one, are in tests/api/schemathesis.toml; how each
caller authenticates is in tests/api/schemathesis_hooks.py. `SCHEMA_CHECK_SEED=<n>` runs it
with another seed.
"""

import os
import re
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from delivery.services import CheckoutLine, CheckoutRequest, checkout_place
from tests.delivery.transport.support import make_courier
from tests.fulfillment.factories import PickerFactory
from tests.kernel.factories import PASSWORD, UserFactory, partner_key
from tests.storefront.conftest import POSTCODE, make_shop

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = os.environ.get("SCHEMA_CHECK_SEED", "21")


def a_customer_with_an_order(shop):
    customer = UserFactory(roles=["customer"])
    checkout_place(
        customer_id=customer.pk,
        idempotency_key=uuid.uuid4().hex,
        request=CheckoutRequest(
            lines=(CheckoutLine(sku=shop.products[0].sku, quantity=1),),
            address="1 Pike St, Seattle",
            postcode=POSTCODE,
            window_id=shop.windows[0].pk,
            tip=Decimal("1.00"),
            payment_token="tok_visa",
        ),
    )
    return customer


CALLERS = {
    "customer": a_customer_with_an_order,
    "courier": lambda shop: make_courier(shop.hub),
    "picker": lambda shop: PickerFactory(hub=shop.hub),
    "partner": lambda shop: partner_key()[1],
}


def credentials(caller) -> dict[str, str]:
    if isinstance(caller, str):
        return {"SCHEMA_CHECK_API_KEY": caller}
    return {"SCHEMA_CHECK_USERNAME": caller.username, "SCHEMA_CHECK_PASSWORD": PASSWORD}


def schemathesis_run(base_url: str, caller) -> tuple[int, str, float]:
    """`st run` over the served schema as this caller; its exit code, output and seconds."""
    command = [
        str(Path(sys.executable).with_name("st")), "--config-file", str(CONFIG), "run",
        f"{base_url}/api/schema/", "--url", base_url,
        "--phases", "coverage,fuzzing,stateful", "--seed", SEED,
        "--no-color",
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
        "SCHEMA_CHECK_BASE_URL": base_url,
        **credentials(caller),
    }
    started = time.monotonic()
    run = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    return run.returncode, run.stdout + run.stderr, time.monotonic() - started


def summary(output: str) -> str:
    """The run's figures (operations tested, test cases, time), for the test's output."""
    lines = [line.strip() for line in output.splitlines()]
    wanted = re.compile(r"^(API Operations|Test Phases|Test cases|Seed|Test Results)|^\d+ ")
    return " | ".join(line for line in lines if wanted.search(line))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", CALLERS)
def test_the_api_answers_as_its_schema_says(role, live_server):
    # Given a shop (a hub with stock and windows) and a caller of this kind
    caller = CALLERS[role](make_shop())

    # When schemathesis runs every check over the served schema as that caller
    code, output, seconds = schemathesis_run(live_server.url, caller)

    # Then it finds no failure: no server error, no answer the schema does not describe
    print(f"schema check as a {role}: {seconds:.0f} s; {summary(output)}")
    assert code == 0, output
