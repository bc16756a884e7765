"""The cart without JavaScript, and signing up / in / out (the visitor's cart comes along)."""

from django.test import Client

from ordering import services as ordering
from prime_now.kernel.roles import Role
from tests.kernel.factories import PASSWORD


def add(client, sku, quantity=1):
    return client.post("/cart/add/", {"sku": sku, "quantity": quantity, "next": "/cart/"})


def test_a_visitor_adds_items_and_sees_them_in_the_cart(
    visitor, shop, django_assert_max_num_queries
):
    add(visitor, shop.products[0].sku, 2)
    add(visitor, shop.products[1].sku)

    with django_assert_max_num_queries(10):
        response = visitor.get("/cart/")

    html = response.content.decode()
    assert shop.products[0].name in html and shop.products[1].name in html
    assert "Subtotal (3 items)" in html
    assert '<span class="badge">3</span>' in html


def test_adding_confirms_and_returns_to_the_page(visitor, shop):
    product = shop.products[0]

    response = visitor.post(
        "/cart/add/", {"sku": product.sku, "quantity": 1, "next": "/d/groceries/"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/d/groceries/"
    assert f"Added 1 × {product.name} to your cart." in response.content.decode()


def test_an_unknown_product_is_not_added_and_says_why(visitor, shop):
    response = add(visitor, "NO-SUCH-SKU")
    page = visitor.get(response["Location"]).content.decode()

    assert "Your cart is empty" in page
    assert 'class="message error"' in page


def test_a_quantity_outside_the_limits_is_refused(visitor, shop):
    response = add(visitor, shop.products[0].sku, 999)

    assert "between 1 and 20" in visitor.get(response["Location"]).content.decode()


def test_changing_a_quantity_and_removing_a_line(visitor, shop):
    first, second = shop.products[:2]
    add(visitor, first.sku)
    add(visitor, second.sku)

    visitor.post(f"/cart/{first.sku}/quantity/", {f"{first.sku}-quantity": 4})
    visitor.post(f"/cart/{second.sku}/remove/")

    html = visitor.get("/cart/").content.decode()
    assert "Subtotal (4 items)" in html
    assert f'href="/p/{second.sku}/"' not in html


def test_the_cart_marks_what_the_hub_cannot_deliver(visitor_at_home, shop):
    add(visitor_at_home, shop.out_of_stock.sku)

    html = visitor_at_home.get("/cart/").content.decode()

    assert "Not available at your address" in html
    assert "Remove the items we can&#x27;t deliver" in html or "can't deliver" in html


def test_every_form_needs_a_csrf_token(shop):
    strict = Client(enforce_csrf_checks=True)

    assert (
        strict.post("/cart/add/", {"sku": shop.products[0].sku, "quantity": 1}).status_code == 403
    )
    assert strict.post("/deliver-to/", {"postcode": "98101"}).status_code == 403
    assert strict.post("/signin/", {"username": "x", "password": "y"}).status_code == 403


def test_signing_up_makes_a_customer_and_keeps_the_cart(visitor, shop, django_user_model):
    add(visitor, shop.products[0].sku, 2)

    response = visitor.post(
        "/signup/",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )

    assert response.status_code == 302
    user = django_user_model.objects.get(username="newbie")
    assert user.has_role(Role.CUSTOMER)
    cart = ordering.cart_get(owner=ordering.CartOwner(user_id=user.pk))
    assert [(line.sku, line.quantity) for line in cart.lines] == [(shop.products[0].sku, 2)]


def test_sign_ups_from_one_address_beyond_the_limit_are_refused_with_retry_after(
    shop, settings, django_user_model
):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "sign-ups": "2/hour"}

    def sign_up(name):
        return Client().post(
            "/signup/",
            {"username": name, "email": f"{name}@example.com",
             "password1": "a-long-unusual-passphrase", "password2": "a-long-unusual-passphrase"},
        )  # fmt: skip

    assert [sign_up(name).status_code for name in ("one", "two")] == [302, 302]
    refused = sign_up("three")

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert b"Too many accounts were created from your network" in refused.content
    assert not django_user_model.objects.filter(username="three").exists()


def test_sign_up_forms_sent_back_with_errors_do_not_count_against_the_limit(shop, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "sign-ups": "1/hour"}
    mistyped = {"username": "four", "email": "four@example.com",
                "password1": "a-long-unusual-passphrase", "password2": "a-typo"}  # fmt: skip

    # Given two forms sent back for a mistyped password
    assert [Client().post("/signup/", mistyped).status_code for _ in range(2)] == [422, 422]

    # When the form is sent right, then the account is made
    right = {**mistyped, "password2": mistyped["password1"]}
    assert Client().post("/signup/", right).status_code == 302


def test_sign_up_errors_are_shown_next_to_the_fields(visitor, shop):
    response = visitor.post(
        "/signup/",
        {"username": "x", "email": "not-an-email", "password1": "a", "password2": "b"},
    )

    assert response.status_code == 422
    assert b'aria-invalid="true"' in response.content
    assert b"Enter a valid email address" in response.content


def test_signing_in_merges_the_visitors_cart_into_the_customers(visitor, shop, shopper):
    ordering.cart_add(owner=ordering.CartOwner(user_id=shopper.pk), sku=shop.products[1].sku)
    add(visitor, shop.products[0].sku)

    response = visitor.post("/signin/", {"username": shopper.username, "password": PASSWORD})

    assert response.status_code == 302
    cart = ordering.cart_get(owner=ordering.CartOwner(user_id=shopper.pk))
    assert {line.sku for line in cart.lines} == {shop.products[0].sku, shop.products[1].sku}
    assert '<span class="badge">2</span>' in visitor.get("/").content.decode()


def test_a_wrong_password_is_refused_with_a_message(visitor, shopper):
    response = visitor.post("/signin/", {"username": shopper.username, "password": "nope"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_signing_out_keeps_the_address_question_fresh(signed_in):
    response = signed_in.post("/signout/")

    assert response.status_code == 302
    assert b"Sign in" in signed_in.get("/").content
