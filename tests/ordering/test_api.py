"""The REST API: a customer sees and changes only their own cart and orders; fields a client
must not set are refused; anonymous calls are refused."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from ordering import services
from ordering.models import Order
from tests.catalog.factories import ProductFactory
from tests.kernel.factories import UserFactory
from tests.ordering.factories import OrderFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def other_order():
    return OrderFactory(customer=UserFactory(roles=["customer"]))


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestCart:
    def test_get_an_empty_cart(self, customer_client):
        response = customer_client.get("/api/v1/cart")
        assert response.status_code == 200
        assert response.json()["lines"] == []
        assert response.json()["subtotal"] == "0.00"

    def test_add_change_remove(self, customer_client):
        product = ProductFactory(price=D("1.25"))
        added = customer_client.post(
            "/api/v1/cart/lines", {"sku": product.sku, "quantity": 2}, format="json"
        )
        assert added.status_code == 200
        assert added.json()["subtotal"] == "2.50"
        changed = customer_client.patch(
            f"/api/v1/cart/lines/{product.sku}", {"quantity": 4}, format="json"
        )
        assert changed.json()["lines"][0]["quantity"] == 4
        removed = customer_client.delete(f"/api/v1/cart/lines/{product.sku}")
        assert removed.json()["lines"] == []

    def test_the_cart_is_the_signed_in_customers_own(self, customer, customer_client):
        product = ProductFactory()
        customer_client.post("/api/v1/cart/lines", {"sku": product.sku}, format="json")
        someone = client_for(UserFactory())
        assert someone.get("/api/v1/cart").json()["lines"] == []
        # Another customer changing or removing that SKU touches only their own (empty) cart.
        assert (
            someone.patch(
                f"/api/v1/cart/lines/{product.sku}", {"quantity": 5}, format="json"
            ).status_code
            == 404
        )
        someone.delete(f"/api/v1/cart/lines/{product.sku}")
        assert customer_client.get("/api/v1/cart").json()["lines"][0]["quantity"] == 1

    @pytest.mark.parametrize("field", ["unit_price", "price", "line_total", "customer", "user_id"])
    def test_a_field_a_client_cannot_set_is_refused(self, customer_client, field):
        product = ProductFactory(price=D("3.00"))
        response = customer_client.post(
            "/api/v1/cart/lines", {"sku": product.sku, field: "0.01"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {field: ["This field cannot be set."]}
        assert customer_client.get("/api/v1/cart").json()["lines"] == []

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"sku": "NOPE"}, 422, "product_unavailable"),
            ({"quantity": 1}, 400, "invalid"),
            ({"sku": "X", "quantity": 0}, 400, "invalid"),
            ({"sku": "X", "quantity": 21}, 400, "invalid"),
            ({"sku": "X", "quantity": "lots"}, 400, "invalid"),
        ],
    )
    def test_bad_input_gets_a_clear_error(self, customer_client, body, status, code):
        response = customer_client.post("/api/v1/cart/lines", body, format="json")
        assert response.status_code == status
        assert response.json()["error"]["code"] == code

    def test_a_negative_quantity_change_is_refused(self, customer_client):
        product = ProductFactory()
        customer_client.post("/api/v1/cart/lines", {"sku": product.sku}, format="json")
        response = customer_client.patch(
            f"/api/v1/cart/lines/{product.sku}", {"quantity": -1}, format="json"
        )
        assert response.status_code == 400

    def test_accept_prices(self, customer_client):
        product = ProductFactory(price=D("2.00"))
        customer_client.post("/api/v1/cart/lines", {"sku": product.sku}, format="json")
        product.price = D("2.20")
        product.save()
        assert customer_client.get("/api/v1/cart").json()["has_price_changes"] is True
        response = customer_client.post("/api/v1/cart/accept-prices")
        assert response.json()["has_price_changes"] is False


class TestOrders:
    def test_list_shows_only_mine(self, customer, customer_client, other_order):
        mine = OrderFactory(customer=customer)
        body = customer_client.get("/api/v1/orders").json()
        assert [o["number"] for o in body["results"]] == [mine.number]
        assert body["next_before"] is None

    def test_list_pages_with_before(self, customer, customer_client):
        orders = [OrderFactory(customer=customer) for _ in range(3)]
        first = customer_client.get("/api/v1/orders?limit=2").json()
        assert [o["number"] for o in first["results"]] == [orders[2].number, orders[1].number]
        rest = customer_client.get(f"/api/v1/orders?limit=2&before={first['next_before']}").json()
        assert [o["number"] for o in rest["results"]] == [orders[0].number]

    def test_detail_of_my_order(self, customer, customer_client):
        order = OrderFactory(customer=customer, tip=D("1.50"))
        body = customer_client.get(f"/api/v1/orders/{order.number}").json()
        assert body["number"] == order.number
        assert body["total"] == str(order.total)
        assert body["tip"] == "1.50"
        assert body["payment"]["status"] == "authorized"
        assert body["timeline"][0]["status"] == "placed"
        assert "customer_id" not in body

    def test_another_customers_order_is_404_and_leaks_nothing(self, customer_client, other_order):
        for response in (
            customer_client.get(f"/api/v1/orders/{other_order.number}"),
            customer_client.post(f"/api/v1/orders/{other_order.number}/cancel", {}, format="json"),
        ):
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "order_not_found"
            assert other_order.number not in str(response.json()["error"]["fields"])
        assert services.order_get(number=other_order.number).status == "placed"

    def test_a_missing_order_answers_exactly_like_someone_elses(self, customer_client, other_order):
        missing = customer_client.get("/api/v1/orders/PN-2222-2222").json()
        foreign = customer_client.get(f"/api/v1/orders/{other_order.number}").json()
        assert missing["error"]["code"] == foreign["error"]["code"]
        assert missing["error"]["fields"] == foreign["error"]["fields"] == {}

    def test_cancel_my_order(self, customer, customer_client):
        order = OrderFactory(customer=customer)
        response = customer_client.post(
            f"/api/v1/orders/{order.number}/cancel", {"reason": "Ordered twice"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert response.json()["payment"]["status"] == "voided"
        assert response.json()["timeline"][-1] | {"at": None} == {
            "status": "cancelled",
            "actor": "customer",
            "reason": "Ordered twice",
            "at": None,
        }

    def test_cancel_is_too_late_once_out_for_delivery(self, customer, customer_client):
        order = OrderFactory(customer=customer, status="out_for_delivery")
        response = customer_client.post(f"/api/v1/orders/{order.number}/cancel", {}, format="json")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "illegal_transition"

    @pytest.mark.parametrize("field", ["status", "total", "customer", "customer_id", "refund"])
    def test_cancel_refuses_fields_a_client_cannot_set(self, customer, customer_client, field):
        order = OrderFactory(customer=customer)
        response = customer_client.post(
            f"/api/v1/orders/{order.number}/cancel",
            {"reason": "x", field: "delivered"},
            format="json",
        )
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert services.order_get(number=order.number).status == "placed"

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_an_order_cannot_be_written_through_the_api(self, customer, customer_client, method):
        order = OrderFactory(customer=customer)
        response = getattr(customer_client, method)(
            f"/api/v1/orders/{order.number}",
            {"status": "delivered", "total": "0.00"},
            format="json",
        )
        assert response.status_code == 405
        stored = Order.objects.get(number=order.number)
        assert (stored.status, stored.total) == ("placed", order.total)

    def test_orders_cannot_be_created_here(self, customer_client):
        assert customer_client.post("/api/v1/orders", {}, format="json").status_code == 405


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/cart"),
        ("post", "/api/v1/cart/lines"),
        ("patch", "/api/v1/cart/lines/X"),
        ("delete", "/api/v1/cart/lines/X"),
        ("post", "/api/v1/cart/accept-prices"),
        ("get", "/api/v1/orders"),
        ("get", "/api/v1/orders/PN-2222-2222"),
        ("post", "/api/v1/orders/PN-2222-2222/cancel"),
    ],
)
def test_anonymous_calls_are_refused(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_schema_describes_ordering_endpoints(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/v1/cart",
        "/api/v1/cart/lines",
        "/api/v1/cart/lines/{sku}",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/orders/{number}/cancel",
    } <= set(paths)
    assert {"patch", "delete"} <= set(paths["/api/v1/cart/lines/{sku}"])
