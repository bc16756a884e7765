"""A customer chooses a substitute in the cart, the simulator's picker uses it, and the customer
rejects it on the order page: the charge, the timeline and the email agree.

Screenshots of every step land in test-output/<test name>/.
"""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from ordering import services as ordering
from tests.fulfillment.factories import PickerFactory
from tests.storefront.conftest import APPROVED_CARD, POSTCODE, make_shop

from .test_journeys import SimulatorThread, pay, set_address, sign_up_at_checkout

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(transactional_db):
    return make_shop()


def choose(page, name: str, option: str) -> None:
    page.get_by_label(f"If {name} is out of stock").select_option(label=option)
    page.get_by_role("button", name=f"Save substitute for {name}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Substitute for {name} saved")


def test_a_rejected_substitute_is_not_charged_and_the_email_says_so(
    page, shots, shop, django_user_model
):
    chips, water, other_chips = shop.products[0], shop.products[1], shop.products[2]
    set_address(page, POSTCODE)
    for product in (chips, water):
        page.goto(f"/p/{product.sku}/")
        page.get_by_role("button", name="Add to cart").first.click()
    page.goto("/cart/")
    # Given: chips may be replaced by the other chips, the water by nothing
    choose(page, chips.name, f"Replace with {other_chips.name} ({other_chips.price})")
    choose(page, water.name, "No substitute: refund it")
    shots("substitutes-chosen")
    sign_up_at_checkout(page, shots, username="picky")
    pay(page, APPROVED_CARD)
    number = page.locator("#order-number").inner_text()
    customer = django_user_model.objects.get(username="picky")
    page.get_by_role("link", name="Track your order").click()

    # When the simulator's picker finds no chips and bags the chosen substitute
    PickerFactory(hub=shop.hub)
    simulator = SimulatorThread(substitute_every=1)
    simulator.start()
    try:
        substitute = page.locator(f'.substitute[data-sku="{chips.sku}"]')
        expect(substitute).to_contain_text(other_chips.name, timeout=30_000)
        shots("substitute-proposed")
        # ...and the customer rejects it before any courier takes the order
        substitute.get_by_role("button", name=re.compile("^Reject")).click()
        expect(page.get_by_role("status")).to_contain_text("it is not charged")
        shots("substitute-rejected")
        # Then couriers come to work and the order is delivered
        call_command("seed_couriers", small=True, verbosity=0)
        expect(page.locator(".status")).to_have_text("Delivered", timeout=90_000)
    finally:
        simulator.stop()
    shots("delivered")

    order = ordering.order_get(number=number, customer_id=customer.pk)
    chips_line = next(line for line in order.lines if line.sku == chips.sku)
    water_line = next(line for line in order.lines if line.sku == water.sku)
    # The charge: the water, the fee and the tip; nothing for the rejected chips
    assert chips_line.substitute_decision == ordering.SubstituteDecision.REJECTED
    assert chips_line.line_total == Decimal("0.00")
    assert (
        order.amount_captured
        == order.total
        == water_line.line_total + order.delivery_fee + Decimal("3.00")
    )
    # The timeline says it
    assert any("rejected: not charged" in entry.reason for entry in order.timeline)
    # The emails: the substitute was proposed once, and the delivered email gives the same charge
    subjects = [m.subject for m in mail.outbox if number in m.subject]
    assert subjects.count(f"Order {number}: please check your substitute") == 1
    delivered = next(m for m in mail.outbox if m.subject == f"Order {number} was delivered")
    assert f"We charged {order.amount_captured} {order.currency}" in delivered.body
    assert f"{chips.name} → {other_chips.name}: rejected, not charged" in delivered.body
