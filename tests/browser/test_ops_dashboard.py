"""The ops dashboard in a real Chromium: an operator sees it, a customer is refused.
Screenshots land in test-output/<test name>/."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from insights import recording
from tests.fulfillment.factories import HubFactory
from tests.kernel.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in_to_admin(page, username: str) -> None:
    page.goto("/ops/dashboard/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_operator_sees_the_dashboard(page, shots):
    # Given an operator, a hub and a few refused checkouts
    UserFactory(username="ops", is_staff=True, password=PASSWORD)
    hub = HubFactory()
    for n, reason in enumerate(("window_full", "window_full", "payment_declined")):
        recording.refused(reference=f"c:{n}", hub_code=hub.code, reason=reason, at=timezone.now())

    # When they sign in and land on the dashboard (errors of the admin's login page aside)
    sign_in_to_admin(page, "ops")
    expect(page).to_have_url(re.compile(r"/ops/dashboard/$"))
    page.console_errors.clear()
    page.reload()

    # Then the drop rate, the chart and the hub are shown, with no CSP or script error
    expect(page.get_by_role("heading", level=1)).to_have_text("Prime Now · Ops dashboard")
    expect(page.locator('[data-figure="drop-1h-counts"]')).to_have_text("3 of 3 attempts")
    chart = page.get_by_role("img", name="Order drops per hour")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.naturalWidth") > 0
    expect(page.locator(f'[data-hub="{hub.code}"]')).to_be_visible()
    shots("dashboard")
    assert page.console_errors == []


def test_a_customer_is_refused(page, shots):
    UserFactory(username="shopper", roles=["customer"], password=PASSWORD)

    sign_in_to_admin(page, "shopper")

    # The admin's login does not let a non-staff user in: the dashboard stays out of reach
    page.goto("/ops/dashboard/")
    shots("refused")
    expect(page.get_by_text("Prime Now · Ops dashboard")).to_have_count(0)
