"""The courier app's API: my profile, status, location, blocks, offers and trip.

Courier users only. Every view works on the signed-in courier's own things; another
courier's offer, block claim or stop is simply not found.
"""

from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from prime_now.kernel.roles import Role

from ..transport import blocks, couriers, earnings, offers, proofs, trips
from . import courier_serializers as s


class IsCourier(BasePermission):
    message = "Only couriers can use the courier API."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and request.user.has_role(
            Role.COURIER
        )


def conflict(codes: str) -> dict[int, OpenApiResponse]:
    return {409: OpenApiResponse(description=f"Not possible now ({codes})")}


STEP = "trip_step_out_of_order"
NOT_FOUND = {404: OpenApiResponse(description="No trip in progress (no_trip)")}
FAR_OR_UNCHECKED = {
    422: OpenApiResponse(
        description="Too far from the door, or the ID was not checked "
        "(outside_geofence, age_check_required)"
    )
}


class CourierApi(APIView):
    permission_classes = [IsAuthenticated, IsCourier]


def _trip(dto) -> Response:
    return Response(s.TripEnvelopeOutput({"trip": asdict(dto) if dto else None}).data)


class CourierMeGetApi(CourierApi):
    @extend_schema(responses=s.CourierOutput, operation_id="courier_me_get", tags=["courier"])
    def get(self, request):
        return Response(s.CourierOutput(couriers.courier_get(user_id=request.user.pk)).data)


class CourierStatusSetApi(CourierApi):
    """Go online (eligible for offers while on a block) or offline."""

    @extend_schema(
        request=s.StatusInput,
        responses=s.CourierOutput,
        operation_id="courier_status_set",
        tags=["courier"],
    )
    def post(self, request):
        data = s.StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        dto = couriers.courier_set_online(user_id=request.user.pk, **data.validated_data)
        return Response(s.CourierOutput(dto).data)


class CourierLocationPingApi(CourierApi):
    """Where the courier is now. Pings closer together than the dispatcher's interval get 429
    `ping_rate_limited`, a flood 429 `throttled`; both say when to retry (Retry-After)."""

    throttle_scope = "courier-pings"

    @extend_schema(
        request=s.LocationInput,
        responses={
            202: s.LocationOutput,
            429: OpenApiResponse(description="Pinged too soon (ping_rate_limited)"),
        },
        operation_id="courier_location_ping",
        tags=["courier"],
    )
    def post(self, request):
        data = s.LocationInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = couriers.courier_ping(user_id=request.user.pk, **data.validated_data)
        return Response(s.LocationOutput(result).data, status=202)


class CourierBlockListApi(CourierApi):
    """The blocks I hold that are not over yet."""

    @extend_schema(
        responses=s.BlockOutput(many=True), operation_id="courier_blocks_mine", tags=["courier"]
    )
    def get(self, request):
        return Response(
            s.BlockOutput(blocks.blocks_for_courier(user_id=request.user.pk), many=True).data
        )


class CourierBlockAvailableListApi(CourierApi):
    """Blocks with a free slot (at my home hub unless `hub` is given)."""

    @extend_schema(
        parameters=[s.BlocksAvailableQuery],
        responses=s.BlockOutput(many=True),
        operation_id="courier_blocks_available",
        tags=["courier"],
    )
    def get(self, request):
        query = s.BlocksAvailableQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = blocks.blocks_available(
            user_id=request.user.pk, hub_code=query.validated_data.get("hub")
        )
        return Response(s.BlockOutput(found, many=True).data)


class CourierBlockClaimApi(CourierApi):
    @extend_schema(
        request=None,
        responses={200: s.BlockOutput}
        | conflict("block_full, block_closed, block_already_claimed, block_overlap"),
        operation_id="courier_block_claim",
        tags=["courier"],
    )
    def post(self, request, block_id: int):
        dto = blocks.block_claim(user_id=request.user.pk, block_id=block_id)
        return Response(s.BlockOutput(dto).data)


class CourierBlockForfeitApi(CourierApi):
    @extend_schema(
        request=None,
        responses={200: s.BlockOutput} | conflict("forfeit_too_late"),
        operation_id="courier_block_forfeit",
        tags=["courier"],
    )
    def post(self, request, block_id: int):
        dto = blocks.block_forfeit(user_id=request.user.pk, block_id=block_id)
        return Response(s.BlockOutput(dto).data)


class CourierOfferListApi(CourierApi):
    """My open offers (each expires at `expires_at`)."""

    @extend_schema(
        responses=s.OfferOutput(many=True), operation_id="courier_offers", tags=["courier"]
    )
    def get(self, request):
        found = offers.offers_for_courier(user_id=request.user.pk)
        return Response(s.OfferOutput(found, many=True).data)


class CourierOfferAcceptApi(CourierApi):
    """Take the delivery. 409: `offer_expired`, `offer_already_answered`, `job_taken`,
    `no_capacity`."""

    @extend_schema(
        request=None,
        responses={200: s.OfferOutput}
        | conflict("offer_expired, offer_already_answered, job_taken, no_capacity"),
        operation_id="courier_offer_accept",
        tags=["courier"],
    )
    def post(self, request, offer_id: str):
        dto = offers.offer_accept(user_id=request.user.pk, offer_id=offer_id)
        return Response(s.OfferOutput(dto).data)


class CourierOfferDeclineApi(CourierApi):
    @extend_schema(
        request=None,
        responses={200: s.OfferOutput} | conflict("offer_expired, offer_already_answered"),
        operation_id="courier_offer_decline",
        tags=["courier"],
    )
    def post(self, request, offer_id: str):
        dto = offers.offer_decline(user_id=request.user.pk, offer_id=offer_id)
        return Response(s.OfferOutput(dto).data)


class CourierTripGetApi(CourierApi):
    """My trip in progress (`trip` is null when there is none). The address of a stop is shown
    only while it is the one I am heading to."""

    @extend_schema(
        responses=s.TripEnvelopeOutput, operation_id="courier_trip_get", tags=["courier"]
    )
    def get(self, request):
        return _trip(trips.trip_current(user_id=request.user.pk))


class CourierTripArriveApi(CourierApi):
    @extend_schema(
        request=None,
        responses={200: s.TripEnvelopeOutput} | conflict(STEP) | NOT_FOUND,
        operation_id="courier_trip_arrived_at_hub",
        tags=["courier"],
    )
    def post(self, request):
        return _trip(trips.trip_arrive_at_hub(user_id=request.user.pk))


class CourierTripPickUpApi(CourierApi):
    """Bags collected (the count must match the trip); the orders are out for delivery."""

    @extend_schema(
        request=s.PickUpInput,
        responses={200: s.TripEnvelopeOutput} | conflict(STEP) | NOT_FOUND,
        operation_id="courier_trip_picked_up",
        tags=["courier"],
    )
    def post(self, request):
        data = s.PickUpInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _trip(trips.trip_pick_up(user_id=request.user.pk, **data.validated_data))


class CourierStopDeliverApi(CourierApi):
    """Delivered, with proof, at the door (geofence), ID checked for age-restricted goods."""

    @extend_schema(
        request=s.DeliverInput,
        responses={200: s.TripEnvelopeOutput} | conflict(STEP) | FAR_OR_UNCHECKED,
        operation_id="courier_stop_delivered",
        tags=["courier"],
    )
    def post(self, request, job_id: str):
        data = s.DeliverInput(data=request.data)
        data.is_valid(raise_exception=True)
        dto = trips.stop_deliver(user_id=request.user.pk, job_id=job_id, **data.validated_data)
        return _trip(dto)


class CourierStopFailApi(CourierApi):
    """Could not deliver: goods go back to the hub, the payment is voided."""

    @extend_schema(
        request=s.FailInput,
        responses={200: s.TripEnvelopeOutput} | conflict(STEP),
        operation_id="courier_stop_failed",
        tags=["courier"],
    )
    def post(self, request, job_id: str):
        data = s.FailInput(data=request.data)
        data.is_valid(raise_exception=True)
        dto = trips.stop_fail(user_id=request.user.pk, job_id=job_id, **data.validated_data)
        return _trip(dto)


class CourierStopProofApi(CourierApi):
    """Upload the proof for the stop you are at: a photo of the bags at the door or the
    customer's signature (multipart: kind, image). JPEG or PNG, at most 5 MB; the content is
    checked, not the file name. Then mark the stop delivered with proof_reference = its id."""

    # JSON too: a body without an image is answered like any upload that is not one (after
    # the stop is found to be yours), not with 415.
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": s.ProofUploadInput},
        responses={
            201: s.ProofOutput,
            400: OpenApiResponse(
                description="Not a JPEG or PNG image, or too large (invalid_image)"
            ),
            404: OpenApiResponse(description="Not a stop of yours that is picked up"),
        },
        operation_id="courier_stop_proof_upload",
        tags=["courier"],
    )
    def post(self, request, job_id: str):
        upload = request.FILES.get("image")
        data = upload.read(proofs.MAX_BYTES + 1) if upload is not None else b""
        dto = proofs.proof_upload(
            user_id=request.user.pk,
            job_id=job_id,
            kind=str(request.data.get("kind", "")),
            data=data,
        )
        return Response(s.ProofOutput(dto).data, status=201)


class CourierEarningsApi(CourierApi):
    """My earnings by day or week (UTC): each delivered trip earns its block's base pay plus
    the tips of the orders delivered."""

    @extend_schema(
        parameters=[s.EarningsInput],
        responses={200: s.EarningsOutput, 400: OpenApiResponse(description="Invalid dates")},
        operation_id="courier_earnings_get",
        tags=["courier"],
    )
    def get(self, request):
        params = s.EarningsInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        args = params.validated_data
        rows, total = earnings.courier_earnings(
            user_id=request.user.pk,
            period=earnings.Period(args["period"]),
            start=args["start"],
            end=args["end"],
        )
        body = {**args, "rows": rows, "total": total}
        return Response(s.EarningsOutput(body).data)
