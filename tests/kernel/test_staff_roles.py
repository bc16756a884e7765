"""The staff roles in the admin, least privilege: each role can do its tasks and nothing else.

Every test signs in as a user holding one role (no superuser) and uses the real admin pages:
change lists, change and add forms, actions.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.utils import timezone

from catalog.models import Product
from delivery.models import Block, CourierProfile
from delivery.transport.couriers import courier_upsert
from fulfillment import services as fulfillment
from fulfillment.models import Stock
from ordering import services as ordering
from ordering.models import Order
from prime_now.kernel.faults import fault_add
from prime_now.kernel.levers import lever_on
from prime_now.kernel.models import DeadLetter, Fault, Lever, User
from prime_now.kernel.roles import ROLE_PERMISSIONS, STAFF_ROLES, Role, role_revoke, roles_sync
from tests.catalog.factories import ProductFactory
from tests.fulfillment.factories import HubFactory, StockFactory
from tests.kernel.factories import UserFactory
from tests.ordering.factories import OrderFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin"
SOME_LEVER = "storefront-also-bought"


def signed_in(role: str, **fields) -> tuple[Client, User]:
    user = UserFactory(roles=[role], **fields)
    client = Client()
    client.force_login(user)
    return client, user


def change_price(client: Client, product: Product, price: str):
    """A new price posted on the product's change form."""
    return client.post(f"{ADMIN}/catalog/product/{product.pk}/change/", {"price": price})


def change_price_in_list(client: Client, product: Product, price: str):
    """A new price typed into the product list (its editable price column), then "Save"."""
    return client.post(
        f"{ADMIN}/catalog/product/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(product.pk),
            "form-0-price": price,
            "_save": "Save",
        },
    )


def adjust(client: Client, row: Stock, delta: int):
    return client.post(
        f"{ADMIN}/fulfillment/stock/",
        {
            "action": "adjust",
            ACTION_CHECKBOX_NAME: [row.pk],
            "apply": "1",
            "kind": "adjusted",
            "delta": str(delta),
            "reason": "counted the shelf",
        },
    )


def action(client: Client, changelist: str, name: str, *pks):
    return client.post(
        f"{ADMIN}/{changelist}/", {"action": name, ACTION_CHECKBOX_NAME: [str(pk) for pk in pks]}
    )


# --- the roles themselves ----------------------------------------------------------------------


def test_every_permission_a_role_names_exists():
    assert roles_sync() == []


def test_each_staff_role_is_a_group_with_exactly_its_permissions():
    from django.contrib.auth.models import Group

    for role in STAFF_ROLES:
        group = Group.objects.get(name=str(role))
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == ROLE_PERMISSIONS[role], role


def test_every_model_in_the_admin_is_seen_by_the_operators():
    operator = UserFactory(roles=["operator"])

    unseen = [
        model._meta.label
        for model in admin.site._registry
        if not operator.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
    ]

    assert unseen == []


def test_no_admin_action_is_open_to_whoever_may_only_view():
    open_actions = [
        f"{model._meta.label}.{getattr(func, '__name__', func)}"
        for model, model_admin in admin.site._registry.items()
        for func in model_admin.actions or ()
        if not getattr(
            func if callable(func) else getattr(model_admin, func), "allowed_permissions", ()
        )
    ]

    assert open_actions == []


def test_a_staff_role_makes_its_holder_staff_and_losing_it_does_not_keep_them_staff():
    user = UserFactory(roles=["support"])
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser

    role_revoke(user_id=user.pk, role=Role.SUPPORT)

    user.refresh_from_db()
    assert not user.is_staff


@pytest.mark.parametrize("role", sorted(str(r) for r in STAFF_ROLES))
def test_every_staff_role_opens_the_admin(role):
    client, _ = signed_in(role)

    assert client.get(f"{ADMIN}/").status_code == 200


# --- operator ----------------------------------------------------------------------------------


def test_an_operator_changes_a_price():
    client, _ = signed_in("operator")
    product = ProductFactory(price=Decimal("2.99"))

    response = change_price_in_list(client, product, "3.49")

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.price == Decimal("3.49")


def test_an_operator_pulls_a_lever():
    client, _ = signed_in("operator")
    lever = Lever.objects.get(name=SOME_LEVER)

    response = action(client, "kernel/lever", "pull", lever.pk)

    assert response.status_code == 302
    assert not lever_on(SOME_LEVER)


def test_an_operator_clears_a_fault():
    client, operator = signed_in("operator")
    spec = fault_add(target="payment", kind="error", reason="game day", actor=operator)

    action(client, "kernel/fault", "clear", spec.id)

    assert Fault.objects.get(pk=spec.id).cleared_at is not None


def test_an_operator_replays_a_dead_letter():
    client, _ = signed_in("operator")
    letter = DeadLetter.objects.create(kind="task", name="kernel.purge_outbox", kwargs={})

    action(client, "kernel/deadletter", "retry_now", letter.pk)

    letter.refresh_from_db()
    assert letter.replayed_at is not None and letter.replays == 1


def test_an_operator_adjusts_stock_at_any_hub():
    client, _ = signed_in("operator")
    row = StockFactory(on_hand=10)

    adjust(client, row, -2)

    row.refresh_from_db()
    assert row.on_hand == 8


def test_an_operator_cannot_edit_users_so_cannot_make_anyone_a_superuser():
    client, operator = signed_in("operator")
    url = f"{ADMIN}/kernel/user/{operator.pk}/change/"

    response = client.post(url, {"username": operator.username, "is_superuser": "on"})

    assert response.status_code == 403
    operator.refresh_from_db()
    assert not operator.is_superuser
    assert client.get(f"{ADMIN}/kernel/user/add/").status_code == 403
    assert client.get(f"{ADMIN}/auth/group/add/").status_code == 403


# --- dispatcher --------------------------------------------------------------------------------


def test_a_dispatcher_publishes_a_block():
    client, _ = signed_in("dispatcher")
    hub = HubFactory(code="sea-01")
    starts = timezone.now() + timedelta(hours=2)

    response = client.post(
        f"{ADMIN}/delivery/block/add/",
        {
            "hub_code": hub.code,
            "starts_at_0": starts.strftime("%Y-%m-%d"),
            "starts_at_1": starts.strftime("%H:%M:%S"),
            "ends_at_0": (starts + timedelta(hours=4)).strftime("%Y-%m-%d"),
            "ends_at_1": (starts + timedelta(hours=4)).strftime("%H:%M:%S"),
            "wanted": "3",
            "claims-TOTAL_FORMS": "0",
            "claims-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Block.objects.get().wanted == 3


def test_a_dispatcher_lets_a_courier_work_for_another_hub_but_not_an_unknown_one():
    client, _ = signed_in("dispatcher")
    home, other = HubFactory(code="sea-01"), HubFactory(code="sea-02")
    courier = UserFactory()
    courier_upsert(user_id=courier.pk, home_hub_code=home.code)
    profile = CourierProfile.objects.get(user=courier)
    url = f"{ADMIN}/delivery/courierprofile/{profile.pk}/change/"
    form = {
        "user": courier.pk,
        "vehicle": "ebike",
        "bag_capacity": "4",
        "home_hub_code": home.code,
        "rating": "5",
    }

    refused = client.post(url, {**form, "other_hub_codes": "nowhere"})
    accepted = client.post(url, {**form, "other_hub_codes": other.code})

    assert refused.status_code == 200 and "No hub nowhere" in refused.content.decode()
    assert accepted.status_code == 302
    profile.refresh_from_db()
    assert profile.hub_codes == ("sea-01", "sea-02")


def test_a_dispatcher_cannot_change_prices_or_touch_stock_or_levers():
    client, _ = signed_in("dispatcher")
    product = ProductFactory(price=Decimal("2.99"))

    assert change_price(client, product, "0.01").status_code == 403
    assert client.get(f"{ADMIN}/fulfillment/stock/").status_code == 403
    assert client.get(f"{ADMIN}/kernel/lever/").status_code == 403
    product.refresh_from_db()
    assert product.price == Decimal("2.99")


# --- hub manager -------------------------------------------------------------------------------


@pytest.fixture
def two_hubs():
    """A hub manager of sea-01, a stock row there and one at sea-02."""
    mine, theirs = HubFactory(code="sea-01"), HubFactory(code="sea-02")
    client, manager = signed_in("hub_manager")
    fulfillment.hub_staff_add(hub_code=mine.code, user_id=manager.pk)
    return client, StockFactory(hub=mine, on_hand=10), StockFactory(hub=theirs, on_hand=10)


def test_a_hub_manager_lists_only_the_stock_of_their_hub(two_hubs):
    client, here, there = two_hubs

    page = client.get(f"{ADMIN}/fulfillment/stock/").content.decode()

    assert here.sku in page and there.sku not in page


def test_a_hub_manager_adjusts_the_stock_of_their_hub(two_hubs):
    client, here, _ = two_hubs

    adjust(client, here, +5)

    here.refresh_from_db()
    assert here.on_hand == 15


def test_a_hub_manager_cannot_adjust_another_hubs_stock(two_hubs):
    client, _, there = two_hubs

    adjust(client, there, -10)

    there.refresh_from_db()
    assert there.on_hand == 10


def test_a_hub_manager_cannot_open_or_save_another_hubs_stock(two_hubs):
    client, _, there = two_hubs
    url = f"{ADMIN}/fulfillment/stock/{there.pk}/change/"

    opened = client.get(url)
    saved = client.post(url, {"aisle": "Z9", "bin": "99", "low_stock_threshold": "1"})

    assert opened.status_code == 302 and opened["Location"] == f"{ADMIN}/"  # "not found"
    assert saved.status_code == 302
    there.refresh_from_db()
    assert there.aisle != "Z9"


def test_a_hub_manager_cannot_change_prices_or_see_orders(two_hubs):
    client, _, _ = two_hubs
    product = ProductFactory(price=Decimal("2.99"))

    assert change_price(client, product, "0.01").status_code == 403
    assert client.get(f"{ADMIN}/ordering/order/").status_code == 403
    product.refresh_from_db()
    assert product.price == Decimal("2.99")


# --- support -----------------------------------------------------------------------------------


def test_support_cancels_a_customers_order():
    client, _ = signed_in("support")
    order = OrderFactory()

    action(client, "ordering/order", "cancel_orders", Order.objects.get(number=order.number).pk)

    assert ordering.order_get(number=order.number).status == "cancelled"


def test_support_cannot_change_prices():
    client, _ = signed_in("support")
    product = ProductFactory(price=Decimal("2.99"))

    response = change_price(client, product, "0.01")

    assert response.status_code == 403
    product.refresh_from_db()
    assert product.price == Decimal("2.99")


def test_support_cannot_change_a_price_from_the_product_list_either():
    client, _ = signed_in("support")
    product = ProductFactory(price=Decimal("2.99"))

    change_price_in_list(client, product, "0.01")

    product.refresh_from_db()
    assert product.price == Decimal("2.99")


def test_support_cannot_reach_levers_faults_dead_letters_or_stock():
    client, _ = signed_in("support")

    for page in ("kernel/lever", "kernel/fault", "kernel/deadletter", "fulfillment/stock"):
        assert client.get(f"{ADMIN}/{page}/").status_code == 403, page
