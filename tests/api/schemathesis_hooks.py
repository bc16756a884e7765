"""schemathesis's hooks for the schema check (tests/api/test_schema.py), loaded by `st run` in
its own process: how each kind of caller authenticates.

A user signs in as a mobile app does (`POST /api/v1/auth/token`) and sends
`Authorization: Token <token>`; when a request is answered 401 (the run itself called
`auth/logout` or `logout-all`), schemathesis asks for a new token and sends it again. A
partner sends its key, `Authorization: Api-Key <key>`, which no operation revokes.

Read from the environment: SCHEMA_CHECK_BASE_URL, and SCHEMA_CHECK_USERNAME and
SCHEMA_CHECK_PASSWORD (a user) or SCHEMA_CHECK_API_KEY (a partner).
"""

import os
from decimal import Decimal

import requests
import schemathesis


@schemathesis.auth()
class Caller:
    def get(self, case, context):
        key = os.environ.get("SCHEMA_CHECK_API_KEY")
        if key:
            return f"Api-Key {key}"
        response = requests.post(
            f"{os.environ['SCHEMA_CHECK_BASE_URL']}/api/v1/auth/token",
            json={
                "username": os.environ["SCHEMA_CHECK_USERNAME"],
                "password": os.environ["SCHEMA_CHECK_PASSWORD"],
                "device": "schemathesis",
            },
            timeout=30,
        )
        response.raise_for_status()
        return f"Token {response.json()['token']}"

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


@schemathesis.hook
def filter_query(context, query):
    """A product listing's prices run from price_min up to price_max: the API refuses a range
    the other way round with 400 (documented, tested in tests/catalog/test_api.py). JSON
    Schema cannot compare two values, so the schema cannot say it, and schemathesis does not
    send such ranges (in the phases that draw values; the coverage phase varies one parameter
    at a time and never makes one)."""
    if context.operation.path != "/api/v1/catalog/products" or not query:
        return True
    if not (query.get("price_min") and query.get("price_max")):
        return True
    try:
        return Decimal(query["price_min"]) <= Decimal(query["price_max"])
    except (TypeError, ArithmeticError):
        return True  # not amounts: the schema decides
