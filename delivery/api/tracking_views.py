from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from prime_now.kernel.api.auth import KeyScopes, with_partner_keys
from prime_now.kernel.partner_keys import ApiScope

from ..facade.tracking import tracking_for
from .tracking_serializers import TrackingOutput


class OrderTrackingGetApi(APIView):
    """Where is my order: status timeline, window, and the courier's position and ETA once a
    courier is bringing it. Another customer's order is not found.

    A partner key with tracking:read tracks its partner account's orders."""

    authentication_classes = with_partner_keys()
    permission_classes = [IsAuthenticated, KeyScopes]
    api_key_scope = ApiScope.TRACKING_READ

    @extend_schema(responses=TrackingOutput, operation_id="order_tracking_get", tags=["orders"])
    def get(self, request, number: str):
        dto = tracking_for(order_number=number, customer_id=request.user.pk)
        return Response(TrackingOutput(asdict(dto)).data)
