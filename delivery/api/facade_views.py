"""The façade's API: the promise (public) and checkout (with an Idempotency-Key)."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from delivery.facade.idempotency import MAX_KEY_LENGTH, idempotency_key_check
from delivery.services import (
    CheckoutFailedError,
    CheckoutLine,
    CheckoutRequest,
    checkout_place,
    promise_for,
    window_picker,
)
from ordering.services import SubstitutionChoice
from prime_now.kernel.api.auth import KeyScopes, PartnerKeyAuthentication, with_partner_keys
from prime_now.kernel.api.serializers import NOT_BLANK
from prime_now.kernel.partner_keys import ApiScope, PartnerKey

from .facade_serializers import (
    PLACE_CONSTRAINTS,
    CheckoutInput,
    CheckoutOutput,
    PromiseInput,
    PromiseOutput,
    WindowPickerInput,
    WindowPickerOutput,
)

REPLAYED = {"Idempotent-Replayed": "true"}


class PromiseGetApi(APIView):
    """What can reach this address, and when: hub, open windows, earliest delivery."""

    permission_classes = [AllowAny, KeyScopes]
    authentication_classes = [PartnerKeyAuthentication]
    api_key_scope = ApiScope.PROMISE_READ
    throttle_scope = "reads"
    query_constraints = PLACE_CONSTRAINTS

    @extend_schema(
        parameters=[PromiseInput],
        responses=PromiseOutput,
        operation_id="delivery_promise_get",
    )
    def get(self, request):
        query = PromiseInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        promise = promise_for(**query.validated_data)
        return Response(PromiseOutput(promise).data)


class WindowPickerApi(APIView):
    """The windows for an address and basket, grouped as the storefront's checkout shows them:
    the soonest with a seat, the next few of each kind, the rest by day (full ones marked)."""

    permission_classes = [AllowAny, KeyScopes]
    authentication_classes = [PartnerKeyAuthentication]
    api_key_scope = ApiScope.PROMISE_READ
    throttle_scope = "reads"
    query_constraints = PLACE_CONSTRAINTS

    @extend_schema(
        parameters=[WindowPickerInput],
        responses=WindowPickerOutput,
        operation_id="delivery_window_picker_get",
    )
    def get(self, request):
        query = WindowPickerInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        subtotal = query.validated_data.pop("subtotal")
        promise = promise_for(**query.validated_data)
        empty: dict[str, Any] = {
            "soonest": None,
            "next": [],
            "days": [],
            "hub_code": None,
            "timezone": None,
        }
        if not promise.hub_code:
            body: dict[str, Any] = {"available": False, "message": promise.message, **empty}
            return Response(WindowPickerOutput(body).data)
        picker = window_picker(
            hub_code=promise.hub_code, subtotal=subtotal, ends_after=promise.earliest_delivery
        )
        body = {
            "available": promise.available,
            "message": promise.message,
            "hub_code": picker.hub_code,
            "timezone": picker.timezone,
            "soonest": picker.soonest,
            "next": picker.next,
            "days": picker.days,
        }
        return Response(WindowPickerOutput(body).data)


class CheckoutPlaceApi(APIView):
    """Place an order: prices the lines, reserves the stock, books the window, authorizes the
    payment. Send a unique `Idempotency-Key` per checkout attempt; retries with the same key
    get the first response again (but not a 5xx: the retry runs again).

    A partner key with orders:write places the order as the partner's account, for the
    partner's customer (the address is the customer's); the order records the key."""

    authentication_classes = with_partner_keys()
    permission_classes = [IsAuthenticated, KeyScopes]
    api_key_scope = ApiScope.ORDERS_WRITE
    throttle_scope = "checkout"

    @extend_schema(
        request=CheckoutInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                # Not blank; surrounding spaces are ignored.
                {"type": "string", **NOT_BLANK, "maxLength": MAX_KEY_LENGTH},
                OpenApiParameter.HEADER,
                required=True,
                description="Unique per checkout attempt; reuse it only to retry the same request.",
            )
        ],
        responses={
            201: CheckoutOutput,
            400: OpenApiResponse(description="Invalid request, or no Idempotency-Key"),
            402: OpenApiResponse(description="Payment declined"),
            404: OpenApiResponse(description="address_id is not one of your saved addresses"),
            409: OpenApiResponse(
                description="Out of stock, window full or closed, price changed, or the same "
                "key is still being processed"
            ),
            422: OpenApiResponse(
                description="Address not served, key reused with another body, a product not "
                "sold, or a substitute that cannot stand in (invalid_substitute)"
            ),
        },
        operation_id="checkout_place",
    )
    def post(self, request):
        key = idempotency_key_check(request.headers.get("Idempotency-Key"))
        body = CheckoutInput(data=request.data)
        body.is_valid(raise_exception=True)
        args = body.validated_data
        try:
            result = checkout_place(
                customer_id=request.user.pk,
                idempotency_key=key,
                request=CheckoutRequest(
                    lines=tuple(
                        CheckoutLine(
                            sku=line["sku"],
                            quantity=line["quantity"],
                            substitution=line["substitution"]
                            and SubstitutionChoice(line["substitution"]),
                            substitute_sku=line["substitute_sku"],
                        )
                        for line in args["lines"]
                    ),
                    address_id=args["address_id"],
                    address=args["address"],
                    postcode=args["postcode"],
                    lat=args["lat"],
                    lon=args["lon"],
                    window_id=args["window_id"],
                    tip=Decimal(args["tip"]),
                    payment_token=args["payment_token"],
                    expected_subtotal=args["expected_subtotal"],
                    partner_key=request.auth.prefix if isinstance(request.auth, PartnerKey) else "",
                ),
            )
        except CheckoutFailedError as replayed:
            return Response({"error": replayed.as_dict()}, replayed.status, headers=REPLAYED)
        return Response(
            CheckoutOutput(result).data,
            status=status.HTTP_201_CREATED,
            headers=REPLAYED if result.replayed else None,
        )
