"""The courier API, under /api/v1/courier/."""

from django.urls import path

from . import courier_views as v

urlpatterns = [
    path("me", v.CourierMeGetApi.as_view(), name="courier-me"),
    path("status", v.CourierStatusSetApi.as_view(), name="courier-status"),
    path("location", v.CourierLocationPingApi.as_view(), name="courier-location"),
    path("blocks", v.CourierBlockListApi.as_view(), name="courier-blocks"),
    path(
        "blocks/available",
        v.CourierBlockAvailableListApi.as_view(),
        name="courier-blocks-available",
    ),
    path(
        "blocks/<int:block_id>/claim", v.CourierBlockClaimApi.as_view(), name="courier-block-claim"
    ),
    path(
        "blocks/<int:block_id>/forfeit",
        v.CourierBlockForfeitApi.as_view(),
        name="courier-block-forfeit",
    ),
    path("offers", v.CourierOfferListApi.as_view(), name="courier-offers"),
    path(
        "offers/<str:offer_id>/accept",
        v.CourierOfferAcceptApi.as_view(),
        name="courier-offer-accept",
    ),
    path(
        "offers/<str:offer_id>/decline",
        v.CourierOfferDeclineApi.as_view(),
        name="courier-offer-decline",
    ),
    path("trip", v.CourierTripGetApi.as_view(), name="courier-trip"),
    path("earnings", v.CourierEarningsApi.as_view(), name="courier-earnings"),
    path(
        "trip/stops/<str:job_id>/proof", v.CourierStopProofApi.as_view(), name="courier-stop-proof"
    ),
    path("trip/arrived-at-hub", v.CourierTripArriveApi.as_view(), name="courier-trip-arrived"),
    path("trip/picked-up", v.CourierTripPickUpApi.as_view(), name="courier-trip-picked-up"),
    path(
        "trip/stops/<str:job_id>/delivered",
        v.CourierStopDeliverApi.as_view(),
        name="courier-stop-delivered",
    ),
    path(
        "trip/stops/<str:job_id>/failed", v.CourierStopFailApi.as_view(), name="courier-stop-failed"
    ),
]
