"""Ordering's API: the signed-in customer's cart and orders. One view per operation.

Everything is scoped to request.user: another customer's order answers 404, like a missing one.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ordering import services
from prime_now.kernel.api.auth import KeyScopes, with_partner_keys
from prime_now.kernel.partner_keys import ApiScope

from .serializers import (
    CartLineAddInput,
    CartLineChangeInput,
    CartLineSubstitutionInput,
    CartOutput,
    OrderCancelInput,
    OrderListInput,
    OrderListOutput,
    OrderOutput,
    ProblemListOutput,
    ProblemOutput,
    ProblemReportInput,
    SubstituteDecisionInput,
)

ERRORS = {
    400: OpenApiResponse(description="Invalid input, or a field a client cannot set"),
    404: OpenApiResponse(description="Not found (or not yours)"),
}


def _owner(request) -> services.CartOwner:
    return services.CartOwner(user_id=request.user.pk)


class CartGetApi(APIView):
    """My cart, with live catalog prices; lines whose price changed since added are flagged."""

    @extend_schema(responses=CartOutput, operation_id="cart_get")
    def get(self, request):
        return Response(CartOutput(services.cart_get(owner=_owner(request))).data)


class CartLineAddApi(APIView):
    """Add a product (or more of it) to my cart."""

    @extend_schema(
        request=CartLineAddInput,
        responses={200: CartOutput, 422: OpenApiResponse(description="Product unavailable")}
        | ERRORS,
        operation_id="cart_line_add",
    )
    def post(self, request):
        data = CartLineAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.cart_add(owner=_owner(request), **data.validated_data)
        return Response(CartOutput(cart).data)


class CartLineChangeApi(APIView):
    """Set the quantity of a product in my cart (0 removes it)."""

    @extend_schema(
        request=CartLineChangeInput,
        responses={200: CartOutput} | ERRORS,
        operation_id="cart_line_change",
    )
    def patch(self, request, sku: str):
        data = CartLineChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.cart_set_quantity(
            owner=_owner(request), sku=sku, quantity=data.validated_data["quantity"]
        )
        return Response(CartOutput(cart).data)


class CartLineRemoveApi(APIView):
    """Remove a product from my cart (removing what is not there is not an error)."""

    @extend_schema(responses={200: CartOutput}, operation_id="cart_line_remove")
    def delete(self, request, sku: str):
        return Response(CartOutput(services.cart_remove(owner=_owner(request), sku=sku)).data)


class CartLineApi(CartLineChangeApi, CartLineRemoveApi):
    """`cart/lines/<sku>`: PATCH changes the quantity, DELETE removes (two operations, one path)."""


class CartLineSubstitutionApi(APIView):
    """What may stand in for this line if the hub cannot find it: "best_match", "specific"
    (with `substitute_sku`) or "none". New lines start with their department's default."""

    @extend_schema(
        request=CartLineSubstitutionInput,
        responses={200: CartOutput, 422: OpenApiResponse(description="Substitute not sold")}
        | ERRORS,
        parameters=[OpenApiParameter("sku", str, OpenApiParameter.PATH)],
        operation_id="cart_line_substitution_set",
    )
    def put(self, request, sku: str):
        data = CartLineSubstitutionInput(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.cart_set_substitution(owner=_owner(request), sku=sku, **data.validated_data)
        return Response(CartOutput(cart).data)


class CartPricesAcceptApi(APIView):
    """I have seen the live prices: they become my cart's prices (clears `price_changed`)."""

    @extend_schema(request=None, responses=CartOutput, operation_id="cart_prices_accept")
    def post(self, request):
        return Response(CartOutput(services.cart_accept_prices(owner=_owner(request))).data)


class OrderListApi(APIView):
    """My orders, newest first. Continue with `?before=<next_before>`."""

    @extend_schema(
        parameters=[OrderListInput],
        responses={
            200: OrderListOutput,
            404: OpenApiResponse(description="`before` is not one of my orders"),
        },
        operation_id="order_list",
    )
    def get(self, request):
        params = OrderListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        limit = params.validated_data["limit"]
        orders = services.orders_for_customer(
            customer_id=request.user.pk, limit=limit, before=params.validated_data.get("before")
        )
        next_before = orders[-1].number if len(orders) == limit else None
        return Response(OrderListOutput({"results": orders, "next_before": next_before}).data)


class OrderGetApi(APIView):
    """One of my orders: lines (with what was picked), totals, payment, timeline. A partner
    key with tracking:read reads its partner account's orders."""

    authentication_classes = with_partner_keys()
    permission_classes = [IsAuthenticated, KeyScopes]
    api_key_scope = ApiScope.TRACKING_READ

    @extend_schema(
        responses={200: OrderOutput} | ERRORS,
        parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH)],
        operation_id="order_get",
    )
    def get(self, request, number: str):
        order = services.order_get(number=number, customer_id=request.user.pk)
        return Response(OrderOutput(order).data)


class OrderCancelApi(APIView):
    """Cancel my order, until it is out for delivery. The payment hold is released."""

    @extend_schema(
        request=OrderCancelInput,
        responses={200: OrderOutput, 409: OpenApiResponse(description="Too late to cancel")}
        | ERRORS,
        parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH)],
        operation_id="order_cancel",
    )
    def post(self, request, number: str):
        data = OrderCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_cancel(
            number=number,
            reason=data.validated_data["reason"] or "Cancelled by the customer.",
            customer_id=request.user.pk,
        )
        return Response(OrderOutput(order).data, status=status.HTTP_200_OK)


class OrderSubstituteDecideApi(APIView):
    """Accept or reject the substitute picked for one of my order's lines, until the courier
    leaves the hub. A rejected substitute is not charged (the payment hold shrinks at once)
    and goes back to the hub. The same answer again changes nothing."""

    @extend_schema(
        request=SubstituteDecisionInput,
        responses={
            200: OrderOutput,
            409: OpenApiResponse(
                description="No substitute on that line, already answered otherwise, "
                "or the courier has left (code courier_left)"
            ),
        }
        | ERRORS,
        parameters=[
            OpenApiParameter("number", str, OpenApiParameter.PATH),
            OpenApiParameter("sku", str, OpenApiParameter.PATH, description="The order line"),
        ],
        operation_id="order_substitute_decide",
    )
    def post(self, request, number: str, sku: str):
        data = SubstituteDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_substitute_decide(
            number=number,
            sku=sku,
            accept=data.validated_data["decision"] == "accept",
            customer_id=request.user.pk,
        )
        return Response(OrderOutput(order).data)


NUMBER = [OpenApiParameter("number", str, OpenApiParameter.PATH)]


class OrderProblemsApi(APIView):
    """Problems with my delivered order: GET lists them; POST reports a missing, damaged or
    wrong item within 48 h of delivery. Small amounts are refunded at once (status
    "refunded"); larger ones wait for support ("awaiting_support")."""

    @extend_schema(
        responses={200: ProblemListOutput} | ERRORS,
        parameters=NUMBER,
        operation_id="order_problem_list",
    )
    def get(self, request, number: str):
        services.order_get(number=number, customer_id=request.user.pk)  # 404 if not mine
        found = services.problems_for_order(number=number, customer_id=request.user.pk)
        return Response(ProblemListOutput({"results": found}).data)

    @extend_schema(
        request=ProblemReportInput,
        responses={
            201: ProblemOutput,
            422: OpenApiResponse(
                description="Not delivered, past 48 h, not an item received, too many units, "
                "or already reported (codes not_delivered, too_late, invalid_problem, "
                "already_reported)"
            ),
        }
        | ERRORS,
        parameters=NUMBER,
        operation_id="order_problem_report",
    )
    def post(self, request, number: str):
        data = ProblemReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        problem = services.problem_report(
            number=number, customer_id=request.user.pk, **data.validated_data
        )
        return Response(ProblemOutput(problem).data, status=status.HTTP_201_CREATED)


class OrderReorderApi(APIView):
    """Put my past order's items (those still sold) back in my cart; what could not be added
    is named in `notices`."""

    @extend_schema(
        request=None,
        responses={200: CartOutput} | ERRORS,
        parameters=NUMBER,
        operation_id="order_reorder",
    )
    def post(self, request, number: str):
        cart = services.cart_reorder(
            owner=_owner(request), number=number, customer_id=request.user.pk
        )
        return Response(CartOutput(cart).data)
