"""The customer's journeys in a real Chromium at phone width, against the live server.

Screenshots of every step land in test-output/<test name>/.
"""

import re
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import expect

from delivery.tasks.transport import sweep_offers
from delivery.transport.simulator import Simulator
from ordering import services as ordering
from tests.fulfillment.factories import PickerFactory
from tests.storefront.conftest import APPROVED_CARD, DECLINED_CARD, POSTCODE, UNSERVED, make_shop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(transactional_db):
    return make_shop()


class SimulatorThread(threading.Thread):
    """`manage.py simulate`, in-process: the same Simulator ticking until stopped (the command
    itself installs a signal handler, which only the main thread may do), plus the periodic
    offer sweep that celery beat runs every few seconds in production."""

    def __init__(self, tick: float = 0.3, substitute_every: int = 0) -> None:
        super().__init__(daemon=True)
        self.tick = tick
        self.substitute_every = substitute_every
        self.stopped = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        simulator = Simulator(speed_kmh=2000.0, substitute_every=self.substitute_every)
        try:
            while not self.stopped.wait(self.tick):
                self.errors.extend(simulator.tick().errors)
                sweep_offers.apply()
        except Exception as exc:  # shown by the test: a dead simulator explains a stuck order
            self.errors.append(repr(exc))
            raise
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


def set_address(page, postcode: str, address: str = "1 Pike St") -> None:
    page.goto("/")
    page.get_by_label("Postcode").fill(postcode)
    page.get_by_label("Street address").fill(address)
    page.get_by_role("button", name=re.compile("Check delivery|Change address")).click()


def add_three_items(page, shop, shots) -> None:
    page.get_by_role("combobox", name="Search products").fill("Sparkling")
    suggestions = page.get_by_role("listbox", name="Suggestions")
    expect(suggestions.get_by_role("option").first).to_be_visible()
    shots("search-suggestions")
    page.get_by_role("combobox", name="Search products").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Results for")
    shots("search-results")
    for product in shop.products[1:4]:
        page.get_by_role("button", name=f"Add {product.name} to cart").click()
        expect(page.get_by_role("status")).to_contain_text(f"Added 1 × {product.name}")
    shots("three-added")


def sign_up_at_checkout(page, shots, username: str = "newcustomer") -> None:
    page.goto("/cart/")
    page.get_by_role("link", name="Proceed to checkout").click()
    expect(page).to_have_url(re.compile(r"/signin/"))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-unusual-passphrase")
    page.get_by_label("Password confirmation").fill("a-long-unusual-passphrase")
    shots("sign-up")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout")


def pay(page, card: str) -> None:
    expect(page.get_by_role("radio", name=re.compile("^Arrives by"))).to_be_checked()
    page.get_by_role("radio", name="$3").check()
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name="Place order").click()


def test_a_new_customer_sets_an_address_searches_buys_and_sees_the_confirmation(
    page, shots, shop, django_user_model
):
    set_address(page, POSTCODE)
    expect(page.get_by_role("status")).to_contain_text("One-hour delivery is available")
    expect(page.locator(".next-window")).to_be_visible()
    shots("address-set")

    add_three_items(page, shop, shots)
    sign_up_at_checkout(page, shots)
    expect(page.get_by_role("heading", name="Soonest")).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile("two hours"))).to_be_visible()
    shots("checkout")

    pay(page, APPROVED_CARD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you — your order is placed")
    shots("confirmation")
    number = page.locator("#order-number").inner_text()
    user = django_user_model.objects.get(username="newcustomer")
    order = ordering.order_get(number=number, customer_id=user.pk)
    assert sorted(line.sku for line in order.lines) == sorted(p.sku for p in shop.products[1:4])

    page.get_by_role("link", name="Track your order").click()
    expect(page.locator(".status")).to_have_text("Order placed")
    expect(page.locator(".tracking-map .marker.hub")).to_be_visible()
    shots("tracking-placed")
    # A reload would forget this; the statuses the panel shows are recorded as they change.
    page.evaluate(
        """() => {
        window.notReloaded = true;
        window.statusesSeen = [document.querySelector('.status').textContent];
        new MutationObserver(() => {
          const now = document.querySelector('.status').textContent;
          if (window.statusesSeen.at(-1) !== now) window.statusesSeen.push(now);
        }).observe(document.querySelector('main'), {childList: true, subtree: true});
      }"""
    )

    # Pickers and couriers come to work; the page refreshes itself as they move the order.
    PickerFactory(hub=shop.hub)
    call_command("seed_couriers", small=True, verbosity=0)
    simulator = SimulatorThread()
    simulator.start()
    try:
        expect(page.locator(".status")).to_have_text("Delivered", timeout=90_000)
    except AssertionError as exc:
        from delivery.models import BlockClaim, CourierProfile, DeliveryJob, Offer

        debug = (
            list(DeliveryJob.objects.values("status", "hub_code", "courier_id", "window_start")),
            list(Offer.objects.values("status", "courier_id")),
            list(CourierProfile.objects.values("id", "online", "home_hub_code", "located_at")),
            list(BlockClaim.objects.values("status", "block__starts_at", "block__ends_at")),
        )
        raise AssertionError(f"{exc}\nsimulator refused: {simulator.errors[:5]} {debug}") from None
    finally:
        simulator.stop()
    shots("tracking-delivered")
    assert page.url.endswith(f"/orders/{number}/")
    assert page.evaluate("window.notReloaded") is True  # the panel refreshed itself
    seen = page.evaluate("window.statusesSeen")
    assert seen[0] == "Order placed" and seen[-1] == "Delivered" and len(seen) >= 3, seen
    assert ordering.order_get(number=number).status == "delivered"
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_a_declined_card_shows_a_clear_message_and_keeps_the_cart(page, shots, shop):
    set_address(page, POSTCODE)
    add_three_items(page, shop, shots)
    sign_up_at_checkout(page, shots, username="declined")

    pay(page, DECLINED_CARD)

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your card was declined")
    expect(alert).to_contain_text("Your cart is saved")
    shots("declined")
    page.goto("/cart/")
    for product in shop.products[1:4]:
        expect(page.get_by_role("link", name=product.name)).to_be_visible()
    shots("cart-kept")


def test_an_address_no_hub_serves_says_so(page, shots, shop):
    set_address(page, UNSERVED)

    expect(page.get_by_text(f"Sorry, we don't deliver to {UNSERVED} yet")).to_be_visible()
    expect(page.get_by_label("Postcode")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("link", name="Set your delivery address")).to_be_visible()
    shots("not-served")


def test_the_pages_work_without_javascript(chromium, live_server, shop):
    context = chromium.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    try:
        set_address(page, POSTCODE)
        page.get_by_role("combobox", name="Search products").fill("Sparkling")
        page.get_by_role("button", name="Search", exact=True).click()
        page.get_by_role("button", name=f"Add {shop.products[1].name} to cart").click()
        expect(page.get_by_role("status")).to_contain_text("Added 1 ×")
        expect(page.locator(".badge")).to_have_text("1")
    finally:
        context.close()
