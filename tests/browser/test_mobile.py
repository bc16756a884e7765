"""Mobile first, in a real Chromium at 375 px: no page scrolls sideways, a search shows a
product in the first screen, every tap target is at least 44 px, the cart button stays in
reach. Every page is also photographed at 1280 px (test-output/<test>/)."""

import re

import pytest
from playwright.sync_api import expect

from tests.kernel.factories import PASSWORD, UserFactory
from tests.storefront.conftest import APPROVED_CARD, POSTCODE, make_shop

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

# What a finger must hit: controls, links outside running text, and the labels of radios and
# checkboxes (the label is the target). Each one visible at 375 px, smaller than 44 x 44 px.
SMALL_TARGETS = """() => {
  const seen = new Set();
  const targets = [];
  document.querySelectorAll(
    'a, button, select, summary, input:not([type=hidden]):not([type=radio]):not([type=checkbox]),'
    + ' input[type=radio], input[type=checkbox]'
  ).forEach(el => {
    const choice = el.type === 'radio' || el.type === 'checkbox';
    const target = choice ? (el.closest('label') || (el.labels && el.labels[0]) || el) : el;
    if (!seen.has(target)) { seen.add(target); targets.push(target); }
  });
  return targets.filter(el => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.bottom < 0) return false;  // hidden or skip link
    if (el.closest('.visually-hidden, [hidden]')) return false;
    const closed = el.closest('details:not([open])');
    if (closed && el !== closed.querySelector('summary')) return false;  // folded away
    return r.height < 43.5 || r.width < 43.5;
  }).map(el => {
    const r = el.getBoundingClientRect();
    const text = el.textContent.trim().slice(0, 30);
    return `${el.tagName.toLowerCase()} "${text}" ${Math.round(r.width)}x${Math.round(r.height)}`;
  });
}"""


@pytest.fixture
def shop(transactional_db):
    return make_shop()


def check_page(page, shots, name: str) -> None:
    """At 375 px: no sideways scroll, no small tap target; photographed at both widths."""
    assert page.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways at 375 px"
    small = page.evaluate(SMALL_TARGETS)
    assert small == [], f"{name}: tap targets under 44 px: {small}"
    shots(f"{name}-375")
    page.set_viewport_size(DESKTOP)
    shots(f"{name}-1280")
    page.set_viewport_size(PHONE)


def test_every_page_fits_a_375_px_phone_and_a_search_shows_a_product_first(page, shots, shop):
    customer = UserFactory(roles=["customer"])
    page.goto("/")
    check_page(page, shots, "home")
    page.get_by_label("Postcode").fill(POSTCODE)
    page.get_by_label("Street address").fill("1 Pike St")
    page.get_by_role("button", name="Check delivery").click()

    page.goto("/search/?q=sparkling")
    first = page.locator("article.tile").first
    expect(first).to_be_visible()
    assert first.bounding_box()["y"] < PHONE["height"], "the first product is below the fold"
    expect(first.locator("img")).to_be_visible()
    expect(page.locator("details.filters-panel")).not_to_have_attribute("open", "")
    check_page(page, shots, "search")

    page.goto("/d/groceries/")
    check_page(page, shots, "department")
    page.goto(f"/p/{shop.products[1].sku}/")
    expect(page.locator(".product img")).to_be_visible()
    check_page(page, shots, "product")
    page.get_by_role("button", name="Add to cart").click()
    sticky = page.get_by_role("link", name=re.compile(r"View cart \(1 item\)"))
    expect(sticky).to_be_in_viewport()
    page.mouse.wheel(0, 2000)
    expect(sticky).to_be_in_viewport()  # sticky: still in reach after scrolling

    page.goto("/cart/")
    check_page(page, shots, "cart")
    page.goto("/signin/?next=/checkout/")
    check_page(page, shots, "signin")
    page.get_by_label("Username").fill(customer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout")
    check_page(page, shots, "checkout")
    page.get_by_label("Card number").fill(APPROVED_CARD)
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you — your order is placed")
    check_page(page, shots, "confirmation")
    page.get_by_role("link", name="Track your order").click()
    expect(page.locator(".tracking-map svg")).to_be_visible()
    check_page(page, shots, "tracking")
    page.goto("/orders/")
    check_page(page, shots, "orders")


def test_wide_screens_open_the_filters_beside_the_results(chromium, live_server, shop):
    context = chromium.new_context(viewport=DESKTOP, base_url=live_server.url)
    try:
        tab = context.new_page()
        tab.goto("/search/?q=sparkling")
        expect(tab.locator("details.filters-panel")).to_have_attribute("open", "")
        filters = tab.locator("details.filters-panel").bounding_box()
        results = tab.locator("article.tile").first.bounding_box()
        assert filters["x"] < results["x"] and abs(filters["y"] - results["y"]) < 200
    finally:
        context.close()
