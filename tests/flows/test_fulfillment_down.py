"""With fulfillment's door failing (an injected fault), the storefront's pages answer 200 with
degraded widgets, the promise answers 200 from the stand-in, nothing is a 5xx; once the fault
is cleared everything recovers by itself (the breaker's trial call closes it)."""

import time

import pytest
from django.test import Client

from delivery.facade.promise_cache import promise_invalidate
from prime_now.kernel import breakers
from prime_now.kernel.faults import fault_add, fault_clear
from tests.storefront.conftest import POSTCODE, make_shop

pytestmark = pytest.mark.django_db

DEGRADED = "X-Degraded-Widgets"


@pytest.fixture
def shop(settings):
    settings.BREAKERS = {"fulfillment": {"fail_max": 3, "reset_seconds": 2}}
    breakers.forget()
    return make_shop(products=3)


def pages(shop) -> list[str]:
    sku = shop.products[0].sku
    return ["/", "/d/groceries/", "/search/?q=Sparkling", f"/p/{sku}/"]


def test_pages_and_the_promise_degrade_without_a_5xx_and_recover(shop, api_client):
    visitor = Client()
    visitor.post("/deliver-to/", {"postcode": POSTCODE, "address": "1 Pike St"})
    good = api_client.get("/api/v1/delivery/promise", {"postcode": POSTCODE}).json()
    fault = fault_add(target="fulfillment", kind="error", reason="game day")
    promise_invalidate(hub_code=shop.hub.code)  # not the answer cached a moment ago

    answers = {url: visitor.get(url) for url in pages(shop)}
    promise = api_client.get("/api/v1/delivery/promise", {"postcode": POSTCODE})

    assert all(r.status_code == 200 for r in answers.values()), {
        u: r.status_code for u, r in answers.items()
    }
    assert "availability_badges" in answers["/d/groceries/"][DEGRADED]
    assert "availability" in answers[pages(shop)[3]][DEGRADED]
    body = promise.json()
    assert promise.status_code == 200 and body["available"]
    assert body["stale"] or body["conservative"]
    assert [w["id"] for w in body["windows"]][:1] == [w["id"] for w in good["windows"]][:1]

    fault_clear(fault_id=fault.id)
    started = time.monotonic()
    while time.monotonic() - started < 30:
        listing = visitor.get("/d/groceries/")
        if DEGRADED not in listing:
            break
        time.sleep(0.5)

    assert DEGRADED not in listing and time.monotonic() - started < 30
    fresh = api_client.get("/api/v1/delivery/promise", {"postcode": POSTCODE}).json()
    assert not fresh["stale"] and not fresh["conservative"]
