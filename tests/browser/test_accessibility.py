"""axe-core, injected into each main page, finds no serious or critical violation."""

import pytest

from tests.kernel.factories import PASSWORD, UserFactory
from tests.storefront.conftest import APPROVED_CARD, DECLINED_CARD, POSTCODE, make_shop

from .conftest import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(transactional_db):
    return make_shop()


def sign_in(page, username: str) -> None:
    page.goto("/signin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def check(page, path: str) -> None:
    page.goto(path)
    assert page.locator("main").count() == 1
    violations = axe_violations(page)
    assert violations == [], f"{path}: {violations}"


def test_browsing_pages_have_no_serious_accessibility_violations(axe_page, shop):
    check(axe_page, "/")
    check(axe_page, "/signin/")
    check(axe_page, "/signup/")
    axe_page.goto("/")
    axe_page.get_by_label("Postcode").fill(POSTCODE)
    axe_page.get_by_role("button", name="Check delivery").click()
    check(axe_page, "/")
    check(axe_page, "/d/groceries/")
    check(axe_page, "/search/?q=water")
    check(axe_page, f"/p/{shop.products[0].sku}/")
    check(axe_page, "/no-such-page/")


def test_buying_pages_have_no_serious_accessibility_violations(axe_page, shop):
    customer = UserFactory(roles=["customer"])
    axe_page.goto("/")
    axe_page.get_by_label("Postcode").fill(POSTCODE)
    axe_page.get_by_role("button", name="Check delivery").click()
    sign_in(axe_page, customer.username)
    for product in shop.products[:2]:
        axe_page.goto(f"/p/{product.sku}/")
        axe_page.get_by_role("button", name="Add to cart").click()
    check(axe_page, "/cart/")
    check(axe_page, "/checkout/")
    axe_page.get_by_label("Street address").fill("1 Pike St")
    axe_page.get_by_label("Card number").fill(DECLINED_CARD)
    axe_page.get_by_role("button", name="Place order").click()
    axe_page.get_by_role("alert").wait_for()
    assert axe_violations(axe_page) == [], "checkout with errors"
    axe_page.get_by_label("Card number").fill(APPROVED_CARD)
    axe_page.get_by_role("button", name="Place order").click()
    axe_page.get_by_role("heading", name="Thank you — your order is placed").wait_for()
    assert axe_violations(axe_page) == [], "confirmation"
    axe_page.get_by_role("link", name="Track your order").click()
    axe_page.locator("#tracking-status").wait_for()
    assert axe_violations(axe_page) == [], "tracking"
    check(axe_page, "/orders/")


def test_the_check_catches_a_violation(axe_page, shop):
    """The check is real: an unlabelled field put into the page is reported."""
    axe_page.goto("/")
    axe_page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')"
    )

    assert "label" in {v["id"] for v in axe_violations(axe_page, impacts=("critical", "serious"))}
