"""Carts: add, change, remove, bounds, live prices, unavailable products, merge, expiry."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product
from ordering import services
from ordering.models import Cart, CartLine
from tests.catalog.factories import ProductFactory
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def owner():
    return services.CartOwner(user_id=UserFactory().pk)


@pytest.fixture
def guest():
    return services.CartOwner(session_key="guest-abc")


def test_an_empty_cart_is_empty_and_creates_nothing(owner):
    cart = services.cart_get(owner=owner)
    assert (cart.lines, cart.subtotal, cart.item_count) == ((), D("0.00"), 0)
    assert not Cart.objects.exists()


def test_a_cart_owner_is_exactly_one_of_user_or_session():
    with pytest.raises(ValueError):
        services.CartOwner()
    with pytest.raises(ValueError):
        services.CartOwner(user_id=1, session_key="s")


def test_adding_a_product_prices_it_from_the_catalog(owner):
    product = ProductFactory(price=D("2.49"))
    cart = services.cart_add(owner=owner, sku=product.sku, quantity=3)
    (line,) = cart.lines
    assert (line.sku, line.product_id, line.quantity) == (product.sku, product.id, 3)
    assert (line.unit_price, line.line_total, cart.subtotal, cart.item_count) == (
        D("2.49"),
        D("7.47"),
        D("7.47"),
        3,
    )


def test_adding_the_same_product_again_adds_to_its_line(owner):
    product = ProductFactory()
    services.cart_add(owner=owner, sku=product.sku)
    cart = services.cart_add(owner=owner, sku=product.sku, quantity=2)
    assert [(ln.sku, ln.quantity) for ln in cart.lines] == [(product.sku, 3)]


def test_setting_a_quantity_replaces_it_and_zero_removes(owner):
    product = ProductFactory()
    services.cart_add(owner=owner, sku=product.sku, quantity=5)
    assert (
        services.cart_set_quantity(owner=owner, sku=product.sku, quantity=2).lines[0].quantity == 2
    )
    assert services.cart_set_quantity(owner=owner, sku=product.sku, quantity=0).lines == ()


def test_setting_the_quantity_of_something_not_in_the_cart_is_not_found(owner):
    with pytest.raises(services.CartLineNotFoundError):
        services.cart_set_quantity(owner=owner, sku="NOPE", quantity=1)


def test_removing_is_idempotent(owner):
    product = ProductFactory()
    services.cart_add(owner=owner, sku=product.sku)
    assert services.cart_remove(owner=owner, sku=product.sku).lines == ()
    assert services.cart_remove(owner=owner, sku=product.sku).lines == ()


@pytest.mark.parametrize("quantity", [0, -1, 21])
def test_a_line_quantity_out_of_bounds_is_refused(owner, quantity):
    product = ProductFactory()
    with pytest.raises(services.CartLimitError) as caught:
        services.cart_add(owner=owner, sku=product.sku, quantity=quantity)
    assert "quantity" in caught.value.fields
    assert services.cart_get(owner=owner).lines == ()


def test_adding_past_the_line_bound_is_refused_and_keeps_the_line(owner):
    product = ProductFactory()
    services.cart_add(owner=owner, sku=product.sku, quantity=15)
    with pytest.raises(services.CartLimitError):
        services.cart_add(owner=owner, sku=product.sku, quantity=6)
    assert services.cart_get(owner=owner).lines[0].quantity == 15


def full_cart(user_id: int) -> list[Product]:
    """A user's cart holding one each of as many products as a basket may hold."""
    products = ProductFactory.create_batch(services.BASKET_LIMITS.max_lines)
    cart = Cart.objects.create(user_id=user_id)
    CartLine.objects.bulk_create(
        CartLine(cart=cart, product_id=p.id, sku=p.sku, name=p.name, unit_price=p.price, quantity=1)
        for p in products
    )
    return products


def test_a_full_cart_refuses_another_product(owner):
    # Given a cart holding as many products as a basket may hold
    products = full_cart(owner.user_id)
    # When another product is added, then it is refused
    with pytest.raises(services.CartLimitError):
        services.cart_add(owner=owner, sku=ProductFactory().sku)
    # And more of one already there is fine
    more = services.cart_add(owner=owner, sku=products[0].sku)
    assert more.item_count == services.BASKET_LIMITS.max_lines + 1


def test_the_cart_shows_the_basket_limits(owner):
    cart = services.cart_get(owner=owner)
    assert (cart.max_lines, cart.max_line_quantity) == (
        services.BASKET_LIMITS.max_lines,
        services.BASKET_LIMITS.max_line_quantity,
    )


def test_an_unknown_or_inactive_product_cannot_be_added(owner):
    gone = ProductFactory(active=False)
    for sku in ("NOPE-1", gone.sku):
        with pytest.raises(services.ProductUnavailableError) as caught:
            services.cart_add(owner=owner, sku=sku)
        assert caught.value.status == 422


def test_the_cart_shows_live_prices_and_flags_a_change(owner):
    product = ProductFactory(price=D("2.00"))
    services.cart_add(owner=owner, sku=product.sku, quantity=2)
    Product.objects.filter(pk=product.pk).update(price=D("2.50"))
    cart = services.cart_get(owner=owner)
    (line,) = cart.lines
    assert (line.unit_price, line.price_when_added, line.price_changed) == (
        D("2.50"),
        D("2.00"),
        True,
    )
    assert (cart.subtotal, cart.has_price_changes) == (D("5.00"), True)


def test_accepting_prices_clears_the_flag(owner):
    product = ProductFactory(price=D("2.00"))
    services.cart_add(owner=owner, sku=product.sku)
    Product.objects.filter(pk=product.pk).update(price=D("1.75"))
    cart = services.cart_accept_prices(owner=owner)
    assert not cart.has_price_changes
    assert cart.lines[0].price_when_added == D("1.75")


def test_a_product_gone_from_the_catalog_stays_marked_unavailable_outside_the_subtotal(owner):
    keep, gone = ProductFactory(price=D("1.00")), ProductFactory(price=D("9.00"))
    services.cart_add(owner=owner, sku=keep.sku)
    services.cart_add(owner=owner, sku=gone.sku)
    Product.objects.filter(pk=gone.pk).update(active=False)
    cart = services.cart_get(owner=owner)
    assert [(ln.sku, ln.available, ln.line_total) for ln in cart.lines] == [
        (keep.sku, True, D("1.00")),
        (gone.sku, False, D("0.00")),
    ]
    assert (cart.subtotal, cart.item_count, cart.has_unavailable) == (D("1.00"), 1, True)


def test_guest_and_user_carts_are_separate(owner, guest):
    product = ProductFactory()
    services.cart_add(owner=guest, sku=product.sku)
    assert services.cart_get(owner=owner).lines == ()


class TestMergeOnSignIn:
    def test_guest_lines_move_into_the_users_cart_and_the_guest_cart_is_gone(self, guest):
        user = UserFactory()
        a, b = ProductFactory(), ProductFactory()
        services.cart_add(owner=services.CartOwner(user_id=user.pk), sku=a.sku, quantity=1)
        services.cart_add(owner=guest, sku=a.sku, quantity=2)
        services.cart_add(owner=guest, sku=b.sku, quantity=1)
        merged = services.cart_merge(session_key=guest.session_key, user_id=user.pk)
        assert {(ln.sku, ln.quantity) for ln in merged.lines} == {(a.sku, 3), (b.sku, 1)}
        assert merged.notices == ()
        assert not Cart.objects.filter(session_key=guest.session_key).exists()

    def test_a_merge_caps_quantities_and_says_so(self, guest):
        user = UserFactory()
        a = ProductFactory(name="Oat milk")
        services.cart_add(owner=services.CartOwner(user_id=user.pk), sku=a.sku, quantity=15)
        services.cart_add(owner=guest, sku=a.sku, quantity=10)
        merged = services.cart_merge(session_key=guest.session_key, user_id=user.pk)
        assert merged.lines[0].quantity == 20
        assert merged.notices == ("Oat milk: quantity limited to 20.",)

    def test_a_merge_into_a_full_cart_leaves_extra_products_out_and_says_so(self, guest):
        user = UserFactory()
        products = full_cart(user.pk)
        services.cart_add(owner=guest, sku=ProductFactory(name="Kale").sku)
        merged = services.cart_merge(session_key=guest.session_key, user_id=user.pk)
        assert [ln.sku for ln in merged.lines] == [p.sku for p in products]
        limit = services.BASKET_LIMITS.max_lines
        assert merged.notices == (f"Kale was not added: a cart holds {limit} products.",)

    def test_merging_without_a_guest_cart_returns_the_users_cart(self):
        user = UserFactory()
        assert services.cart_merge(session_key="never-used", user_id=user.pk).lines == ()

    def test_merging_twice_is_harmless(self, guest):
        user = UserFactory()
        a = ProductFactory()
        services.cart_add(owner=guest, sku=a.sku, quantity=2)
        services.cart_merge(session_key=guest.session_key, user_id=user.pk)
        again = services.cart_merge(session_key=guest.session_key, user_id=user.pk)
        assert [(ln.sku, ln.quantity) for ln in again.lines] == [(a.sku, 2)]


def test_clear_empties_the_cart(owner):
    services.cart_add(owner=owner, sku=ProductFactory().sku)
    services.cart_clear(owner=owner)
    assert services.cart_get(owner=owner).lines == ()


def test_expiry_deletes_idle_guest_and_user_carts_only(owner, guest):
    product = ProductFactory()
    services.cart_add(owner=owner, sku=product.sku)
    services.cart_add(owner=guest, sku=product.sku)
    fresh = services.CartOwner(session_key="fresh")
    services.cart_add(owner=fresh, sku=product.sku)
    now = timezone.now()
    Cart.objects.filter(session_key=guest.session_key).update(updated_at=now - timedelta(days=15))
    Cart.objects.filter(user_id=owner.user_id).update(updated_at=now - timedelta(days=15))
    assert services.carts_expire() == 1
    assert services.cart_get(owner=guest).lines == ()
    assert services.cart_get(owner=owner).lines != ()
    Cart.objects.filter(user_id=owner.user_id).update(updated_at=now - timedelta(days=91))
    assert services.carts_expire() == 1
    assert services.cart_get(owner=fresh).lines != ()
    assert CartLine.objects.count() == 1


# --- Substitutions ------------------------------------------------------------------------


def test_a_new_line_gets_its_departments_default_substitution(owner):
    from tests.catalog.factories import CategoryFactory, DepartmentFactory

    baby = CategoryFactory(department=DepartmentFactory(substitutes_by_default=False))
    formula = ProductFactory(category=baby)
    bread = ProductFactory()

    cart = services.cart_add(owner=owner, sku=formula.sku)
    cart = services.cart_add(owner=owner, sku=bread.sku)

    choices = {line.sku: line.substitution for line in cart.lines}
    assert choices == {
        formula.sku: services.SubstitutionChoice.NONE,
        bread.sku: services.SubstitutionChoice.BEST_MATCH,
    }


def test_the_customer_chooses_a_specific_substitute(owner):
    bread, rolls = ProductFactory(), ProductFactory()
    services.cart_add(owner=owner, sku=bread.sku)

    cart = services.cart_set_substitution(
        owner=owner,
        sku=bread.sku,
        substitution=services.SubstitutionChoice.SPECIFIC,
        substitute_sku=rolls.sku,
    )

    assert cart.lines[0].substitution == services.SubstitutionChoice.SPECIFIC
    assert cart.lines[0].substitute_sku == rolls.sku


@pytest.mark.parametrize("substitute", ["", "SELF", "NOPE-404", "GONE"])
def test_a_specific_substitute_must_be_another_product_on_sale(owner, substitute):
    bread = ProductFactory()
    gone = ProductFactory(active=False)
    services.cart_add(owner=owner, sku=bread.sku)
    sku = {"SELF": bread.sku, "GONE": gone.sku}.get(substitute, substitute)

    with pytest.raises(services.SubstitutionChoiceError):
        services.cart_set_substitution(
            owner=owner,
            sku=bread.sku,
            substitution=services.SubstitutionChoice.SPECIFIC,
            substitute_sku=sku,
        )


def test_the_database_refuses_a_specific_choice_without_its_product(owner):
    from django.db import IntegrityError

    bread = ProductFactory()
    services.cart_add(owner=owner, sku=bread.sku)

    with pytest.raises(IntegrityError):
        CartLine.objects.filter(sku=bread.sku).update(substitution="specific", substitute_sku="")


def test_a_guest_cart_keeps_its_substitutions_when_merged(guest):
    user = UserFactory()
    bread = ProductFactory()
    services.cart_add(owner=guest, sku=bread.sku)
    services.cart_set_substitution(
        owner=guest, sku=bread.sku, substitution=services.SubstitutionChoice.NONE
    )

    cart = services.cart_merge(session_key=guest.session_key, user_id=user.pk)

    assert cart.lines[0].substitution == services.SubstitutionChoice.NONE
