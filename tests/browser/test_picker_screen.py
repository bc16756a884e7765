"""A picker completes a job on the picker screen in Chromium at phone width: signs in, starts
the next job, types each SKU as the barcode, marks one line short, packs with the bag count.

Screenshots of every step land in test-output/<test name>/.
"""

import pytest
from playwright.sync_api import expect

from fulfillment import services as fulfillment
from ordering import services as ordering
from tests.delivery.facade.conftest import APPROVED, make_world
from tests.fulfillment.factories import PickerFactory
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def placed(transactional_db):
    from delivery.services import CheckoutLine, CheckoutRequest, checkout_place

    world = make_world(products=3)
    customer = UserFactory(roles=["customer"])
    result = checkout_place(
        customer_id=customer.pk,
        idempotency_key="picker-screen",
        request=CheckoutRequest(
            lines=tuple(CheckoutLine(sku=p.sku, quantity=2) for p in world.products),
            address="1 Pike St",
            postcode="98101",
            window_id=world.window.pk,
            payment_token=APPROVED,
        ),
    )
    return world, result.order_number


def test_a_picker_completes_a_job_on_the_picker_screen(page, shots, placed):
    world, number = placed
    picker = PickerFactory(hub=world.hub, username="pia")
    picker.set_password("a-long-unusual-passphrase")
    picker.save()

    page.goto("/picker/")
    page.get_by_label("Username").fill("pia")
    page.get_by_label("Password").fill("a-long-unusual-passphrase")
    page.get_by_role("button", name="Sign in").click()
    shots("job-list")
    page.get_by_role("button", name=f"Start the next job at {world.hub.code}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {number}")
    shots("pick-list")

    lines = fulfillment.pick_job_get(order_ref=number).lines  # in walking order
    for index, line in enumerate(lines):
        item = page.locator(f'.pick-line[data-sku="{line.sku}"]')
        if index == len(lines) - 1:  # the last one: only one of two on the shelf
            item.get_by_label(f"Barcode (type the SKU) for {line.name}").fill(line.sku)
            item.get_by_label("Found (for short or substitute)").fill("1")
            item.get_by_role("button", name=f"Short {line.name}").click()
        else:
            item.get_by_label(f"Barcode (type the SKU) for {line.name}").fill(line.sku)
            item.get_by_role("button", name=f"Confirm all 2 of {line.name}").click()
        expect(page.get_by_role("status")).to_contain_text(line.name)
    shots("all-picked")
    page.get_by_label("Bags used").fill("2")
    page.get_by_role("button", name=f"Pack order {number}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Order {number} is packed in 2 bag(s)")
    shots("packed")

    order = ordering.order_get(number=number)
    assert order.status == ordering.OrderStatus.PACKED
    assert sum(line.missing_quantity for line in order.lines) == 1
    assert fulfillment.pick_job_get(order_ref=number).bags == 2
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
