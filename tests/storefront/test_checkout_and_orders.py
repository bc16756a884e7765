"""Checkout (windows, fees, tip, sandbox card), confirmation, tracking, history and cancel."""

from datetime import timedelta

from delivery.models import WindowKind
from ordering import services as ordering
from tests.delivery.facade.factories import WindowFactory

from .conftest import APPROVED_CARD, DECLINED_CARD


def fill_cart(client, shop, count=3):
    for product in shop.products[:count]:
        client.post("/cart/add/", {"sku": product.sku, "quantity": 1})


def checkout_form(client) -> dict:
    """The checkout form's own values (hidden fields and the first window), as a browser sends."""
    html = client.get("/checkout/").content.decode()

    def value(name):
        return html.split(f'name="{name}" value="')[1].split('"')[0]

    return {
        "idempotency_key": value("idempotency_key"),
        "expected_subtotal": value("expected_subtotal"),
        "window": value("window"),
        "address": "1 Pike St, Apt 3",
        "tip": "3",
    }


def test_checkout_needs_a_signed_in_customer(visitor_at_home, shop):
    response = visitor_at_home.get("/checkout/")

    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=/checkout/")


def test_checkout_preselects_the_soonest_window_and_offers_the_other_with_its_fee(
    signed_in, shop, django_assert_max_num_queries
):
    fill_cart(signed_in, shop)

    with django_assert_max_num_queries(18):
        response = signed_in.get("/checkout/")

    html = response.content.decode()
    soonest = html.split('class="window-list soonest"')[1].split("</ul>")[0]
    assert "checked" in soonest and "Arrives by" in soonest and "$7.99" in soonest
    assert "two hours, $4.99" in html
    assert 'name="card"' in html and 'name="tip"' in html


def test_with_two_days_of_windows_checkout_shows_a_few_before_the_day_tabs(signed_in, shop):
    # Given every hour of two days on sale, one-hour and two-hour (~96 windows)
    start = shop.windows[0].start
    for h in range(1, 48):
        for kind, hours in ((WindowKind.ONE_HOUR, 1), (WindowKind.TWO_HOUR, 2)):
            at = start + timedelta(hours=h)
            WindowFactory(
                hub_code=shop.hub.code, kind=kind, start=at, end=at + timedelta(hours=hours)
            )
    fill_cart(signed_in, shop)

    html = signed_in.get("/checkout/").content.decode()

    before_tabs, tabs = html.split('class="day-tabs"')
    assert 1 <= before_tabs.count('type="radio" name="window"') <= 12
    assert tabs.count('type="radio" name="window"') >= 80
    assert tabs.count("<details") >= 2


def test_an_approved_card_places_the_order_and_empties_the_cart(signed_in, shop, shopper):
    fill_cart(signed_in, shop)

    response = signed_in.post("/checkout/", {**checkout_form(signed_in), "card": APPROVED_CARD})

    assert response.status_code == 302
    number = response["Location"].split("/")[2]
    order = ordering.order_get(number=number, customer_id=shopper.pk)
    assert [line.sku for line in order.lines] == [p.sku for p in shop.products[:3]]
    assert str(order.tip) == "3.00"
    assert order.delivery.address == "1 Pike St, Apt 3"
    assert ordering.cart_get(owner=ordering.CartOwner(user_id=shopper.pk)).lines == ()
    confirmation = signed_in.get(response["Location"]).content.decode()
    assert "your order is placed" in confirmation and number in confirmation


def test_a_declined_card_says_so_and_keeps_the_cart(signed_in, shop, shopper):
    fill_cart(signed_in, shop)

    response = signed_in.post("/checkout/", {**checkout_form(signed_in), "card": DECLINED_CARD})

    assert response.status_code == 402
    assert "Your card was declined" in response.content.decode()
    assert "Your cart is saved" in response.content.decode()
    cart = ordering.cart_get(owner=ordering.CartOwner(user_id=shopper.pk))
    assert len(cart.lines) == 3
    assert ordering.orders_for_customer(customer_id=shopper.pk) == ()


def test_a_resubmitted_checkout_places_one_order(signed_in, shop, shopper):
    fill_cart(signed_in, shop)
    form = {**checkout_form(signed_in), "card": APPROVED_CARD}

    first = signed_in.post("/checkout/", form)
    fill_cart(signed_in, shop)  # the same form posted again (double click, back button)
    signed_in.post("/checkout/", form)

    assert first.status_code == 302
    assert len(ordering.orders_for_customer(customer_id=shopper.pk)) == 1


def test_a_missing_card_number_is_shown_on_the_field(signed_in, shop):
    fill_cart(signed_in, shop)

    response = signed_in.post("/checkout/", {**checkout_form(signed_in), "card": ""})

    assert response.status_code == 422
    assert b'href="#id_card"' in response.content


def test_a_declined_card_number_is_not_shown_again(signed_in, shop):
    # Given a customer who typed a card number the sandbox declines
    fill_cart(signed_in, shop)
    typed = "4000 0000 0000 0069"  # expired: declined

    # When the checkout page comes back with the decline
    response = signed_in.post("/checkout/", {**checkout_form(signed_in), "card": typed})

    # Then the number is nowhere in it (in any spacing): the field is empty
    html = response.content.decode()
    assert response.status_code == 402
    assert typed not in html and typed.replace(" ", "") not in html
    assert 'name="card" value=' not in html


def test_a_card_number_is_not_shown_again_when_another_field_is_wrong(signed_in, shop):
    # Given a customer who typed a good card number but no address
    fill_cart(signed_in, shop)
    form = {**checkout_form(signed_in), "address": "", "card": APPROVED_CARD}

    # When the checkout page comes back with the error
    response = signed_in.post("/checkout/", form)

    # Then the address is asked for and the card number is not echoed into the field
    assert response.status_code == 422
    assert b'href="#id_address"' in response.content
    assert 'name="card" value=' not in response.content.decode()


def place_order(client, shop) -> str:
    fill_cart(client, shop)
    response = client.post("/checkout/", {**checkout_form(client), "card": APPROVED_CARD})
    return response["Location"].split("/")[2]


def test_tracking_shows_the_status_timeline(signed_in, shop, django_assert_max_num_queries):
    number = place_order(signed_in, shop)

    with django_assert_max_num_queries(14):
        response = signed_in.get(f"/orders/{number}/")

    html = response.content.decode()
    assert 'data-status="placed"' in html
    assert 'aria-current="step"' in html
    assert f'data-refresh-url="/orders/{number}/status/"' in html


def test_the_status_panel_refreshes_without_caching(signed_in, shop):
    number = place_order(signed_in, shop)

    response = signed_in.get(f"/orders/{number}/status/")

    assert response["Cache-Control"] == "no-store"
    assert b'id="tracking-status"' in response.content
    assert b"<html" not in response.content


def test_someone_elses_order_is_not_found(signed_in, shop, client):
    from tests.kernel.factories import UserFactory

    number = place_order(signed_in, shop)
    client.force_login(UserFactory(roles=["customer"]))

    assert client.get(f"/orders/{number}/").status_code == 404
    assert client.post(f"/orders/{number}/cancel/").status_code == 404


def test_history_lists_orders_and_a_customer_cancels_one(signed_in, shop, shopper):
    number = place_order(signed_in, shop)

    history = signed_in.get("/orders/").content.decode()
    response = signed_in.post(f"/orders/{number}/cancel/", {"back": "history"}, follow=True)

    assert number in history and f"/orders/{number}/cancel/" in history
    assert f"Order {number} is cancelled" in response.content.decode()
    assert ordering.order_get(number=number).status == "cancelled"


def test_a_delivered_order_cannot_be_cancelled(signed_in, shop):
    number = place_order(signed_in, shop)
    for step in ("order_mark_picking", "order_mark_packed", "order_mark_out_for_delivery"):
        getattr(ordering, step)(number=number)
    ordering.order_mark_delivered(number=number)

    response = signed_in.post(f"/orders/{number}/cancel/", follow=True)

    assert "can no longer be cancelled" in response.content.decode()
    assert ordering.order_get(number=number).status == "delivered"
