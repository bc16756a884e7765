"""The façade's API: the promise (public) and checkout (with an Idempotency-Key)."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from delivery.services import CheckoutLine, checkout_place, promise_for
from delivery.services.idempotency import (
    idempotency_abandon,
    idempotency_begin,
    idempotency_finish,
    idempotency_key_check,
    request_fingerprint,
)
from prime_now.kernel.api.validation import validated
from prime_now.kernel.errors import ApplicationError

from .facade_serializers import (
    CheckoutInput,
    CheckoutOutput,
    PromiseInput,
    PromiseOutput,
    checkout_output,
)

CHECKOUT_SCOPE = "checkout"


class PromiseGetApi(APIView):
    """What can reach this address, and when: hub, open windows, earliest delivery."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        parameters=[PromiseInput],
        responses=PromiseOutput,
        operation_id="delivery_promise_get",
    )
    def get(self, request):
        promise = promise_for(**validated(PromiseInput, request.query_params))
        return Response(PromiseOutput(promise).data)


class CheckoutPlaceApi(APIView):
    """Place an order: prices the lines, reserves the stock, books the window, authorizes the
    payment. Send a unique `Idempotency-Key` per checkout attempt; retries with the same key
    get the first response again."""

    @extend_schema(
        request=CheckoutInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Unique per checkout attempt; reuse it only to retry the same request.",
            )
        ],
        responses={
            201: CheckoutOutput,
            400: OpenApiResponse(description="Invalid request or missing Idempotency-Key"),
            402: OpenApiResponse(description="Payment declined"),
            409: OpenApiResponse(
                description="Out of stock, window full or closed, price changed, or the same "
                "key is still being processed"
            ),
            422: OpenApiResponse(description="Address not served, or key reused with another body"),
        },
        operation_id="checkout_place",
    )
    def post(self, request):
        key = idempotency_key_check(request.headers.get("Idempotency-Key"))
        args = validated(CheckoutInput, request.data)
        user_id = request.user.pk
        stored = idempotency_begin(
            user_id=user_id, scope=CHECKOUT_SCOPE, key=key, request_hash=request_fingerprint(args)
        )
        if stored is not None:
            return Response(
                stored.body, status=stored.status, headers={"Idempotent-Replayed": "true"}
            )
        try:
            result = checkout_place(
                customer_id=user_id,
                idempotency_key=key,
                lines=[
                    CheckoutLine(sku=line["sku"], quantity=line["quantity"])
                    for line in args["lines"]
                ],
                address=args["address"],
                postcode=args["postcode"],
                lat=args["lat"],
                lon=args["lon"],
                window_id=args["window_id"],
                tip=Decimal(args["tip"]),
                payment_token=args["payment_token"],
                expected_subtotal=args["expected_subtotal"],
            )
        except ApplicationError as error:
            if error.status >= 500:  # transient: a retry with the same key runs again
                idempotency_abandon(user_id=user_id, scope=CHECKOUT_SCOPE, key=key)
                raise
            code, body = error.status, {"error": error.as_dict()}
        except BaseException:
            idempotency_abandon(user_id=user_id, scope=CHECKOUT_SCOPE, key=key)
            raise
        else:
            code, body = status.HTTP_201_CREATED, checkout_output(result)
        idempotency_finish(user_id=user_id, scope=CHECKOUT_SCOPE, key=key, status=code, body=body)
        return Response(body, status=code)
