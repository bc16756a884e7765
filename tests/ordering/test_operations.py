"""Operators and batch: the admin (search, filters, actions through services), commands, task."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ordering import services
from ordering.models import Cart, Order
from ordering.tasks import expire_carts
from tests.catalog.factories import ProductFactory
from tests.kernel.factories import UserFactory
from tests.ordering.factories import DeliverySnapshotFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    operator = UserFactory(username="olga", roles=["operator"])
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    return client


class TestAdmin:
    url = "/admin/ordering/order/"

    def test_search_by_number_and_by_customer(self, operator_client):
        ada = OrderFactory(customer=UserFactory(username="ada"))
        bob = OrderFactory(customer=UserFactory(username="bob"))
        by_number = operator_client.get(self.url, {"q": ada.number}).content.decode()
        assert ada.number in by_number and bob.number not in by_number
        by_customer = operator_client.get(self.url, {"q": "bob"}).content.decode()
        assert bob.number in by_customer and ada.number not in by_customer

    def test_filters_by_status_hub_and_window(self, operator_client):
        sea = OrderFactory(delivery=DeliverySnapshotFactory(hub_code="SEA-01"))
        nyc = OrderFactory(delivery=DeliverySnapshotFactory(hub_code="NYC-01"), status="picking")
        page = operator_client.get(self.url, {"hub_code": "NYC-01"}).content.decode()
        assert nyc.number in page and sea.number not in page
        page = operator_client.get(self.url, {"status__exact": "placed"}).content.decode()
        assert sea.number in page and nyc.number not in page
        page = operator_client.get(self.url, {"window_kind": "one_hour"}).content.decode()
        assert sea.number in page

    def test_the_change_page_shows_lines_payment_and_timeline(self, operator_client):
        order = OrderFactory(status="picking")
        pk = Order.objects.get(number=order.number).pk
        page = operator_client.get(f"{self.url}{pk}/change/").content.decode()
        assert order.lines[0].sku in page
        assert "sbx_auth_" in page
        assert "picking" in page and "authorize" in page

    def test_the_cancel_action_goes_through_the_service(self, operator_client):
        cancellable = OrderFactory()
        too_late = OrderFactory(status="out_for_delivery")
        pks = Order.objects.filter(number__in=[cancellable.number, too_late.number])
        response = operator_client.post(
            self.url,
            {"action": "cancel_orders", "_selected_action": [o.pk for o in pks]},
            follow=True,
        )
        messages = [str(m) for m in response.context["messages"]]
        assert "Cancelled 1 order(s)." in messages
        assert any(too_late.number in m for m in messages)
        after = services.order_get(number=cancellable.number)
        assert (after.status, after.payment_status) == ("cancelled", "voided")
        assert after.timeline[-1].actor == "operator:olga"

    def test_the_refund_action_goes_through_the_service(self, operator_client):
        order = OrderFactory(status="delivered")
        pk = Order.objects.get(number=order.number).pk
        operator_client.post(self.url, {"action": "refund_orders", "_selected_action": [pk]})
        after = services.order_get(number=order.number)
        assert (after.status, after.amount_refunded) == ("refunded", order.total)

    def test_orders_cannot_be_added_or_edited_in_the_admin(self, operator_client):
        order = OrderFactory()
        pk = Order.objects.get(number=order.number).pk
        assert operator_client.get(f"{self.url}add/").status_code == 403
        operator_client.post(f"{self.url}{pk}/change/", {"total": "0.00", "status": "delivered"})
        stored = Order.objects.get(pk=pk)
        assert (stored.status, stored.total) == ("placed", order.total)


class TestExport:
    def test_exports_one_row_per_line_within_the_days(self, tmp_path):
        inside = OrderFactory()
        outside = OrderFactory()
        Order.objects.filter(number=outside.number).update(
            placed_at=timezone.now() - timedelta(days=10)
        )
        today = timezone.now().date().isoformat()
        target = tmp_path / "orders.csv"
        call_command(
            "orders_export",
            "--from",
            today,
            "--to",
            today,
            "--output",
            str(target),
            stderr=io.StringIO(),
        )
        rows = list(csv.DictReader(target.open()))
        assert [r["order_number"] for r in rows] == [inside.number]
        assert rows[0]["order_total"] == str(inside.total)
        assert rows[0]["sku"] == inside.lines[0].sku

    def test_exports_to_standard_output(self):
        order = OrderFactory()
        out = io.StringIO()
        today = timezone.now().date().isoformat()
        call_command(
            "orders_export", "--from", today, "--to", today, stdout=out, stderr=io.StringIO()
        )
        assert order.number in out.getvalue()
        assert out.getvalue().startswith("order_number,placed_at,status")

    @pytest.mark.parametrize(
        "args",
        [
            ("--from", "2025-13-01", "--to", "2025-12-31"),
            ("--from", "2025-02-01", "--to", "2025-01-01"),
        ],
    )
    def test_bad_dates_are_a_clear_error(self, args):
        with pytest.raises(CommandError):
            call_command("orders_export", *args)


def test_expire_carts_command_and_task():
    services.cart_add(owner=services.CartOwner(session_key="old"), sku=ProductFactory().sku)
    Cart.objects.update(updated_at=timezone.now() - timedelta(days=30))
    out = io.StringIO()
    call_command("expire_carts", stdout=out)
    assert "Expired 1 cart(s)." in out.getvalue()
    assert expire_carts.delay().get() == 0


def test_seed_ordering_creates_the_demo_customer_once():
    call_command("seed_ordering", "--small", stdout=io.StringIO())
    call_command("seed_ordering", stdout=io.StringIO())
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    # A sign-in comes with its request (django-axes counts failures per address).
    user = authenticate(RequestFactory().post("/"), username="customer", password="prime-now-demo")
    assert user is not None and user.roles == ["customer"]
