"""The signed-in customer's notifications (the mobile app's list) and preferences."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import services

from .serializers import (
    MarkReadInput,
    MarkReadOutput,
    NotificationListInput,
    NotificationListOutput,
    PreferenceSerializer,
)

INVALID = {400: OpenApiResponse(description="Invalid input, or a field a client cannot set")}


class NotificationListApi(APIView):
    """My notifications, newest first, and how many are unread. Continue with
    `?before=<next_before>`."""

    @extend_schema(
        parameters=[NotificationListInput],
        responses={200: NotificationListOutput} | INVALID,
        operation_id="notification_list",
    )
    def get(self, request):
        params = NotificationListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        limit = params.validated_data["limit"]
        found = services.notifications_for(
            user_id=request.user.pk, limit=limit, before=params.validated_data.get("before")
        )
        body = {
            "results": found,
            "next_before": found[-1].id if len(found) == limit else None,
            "unread": services.notifications_unread(user_id=request.user.pk),
        }
        return Response(NotificationListOutput(body).data)


class NotificationMarkReadApi(APIView):
    """Mark some (`ids`) or all of my notifications read."""

    @extend_schema(
        request=MarkReadInput,
        responses={200: MarkReadOutput} | INVALID,
        operation_id="notification_mark_read",
    )
    def post(self, request):
        data = MarkReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        marked = services.notifications_mark_read(
            user_id=request.user.pk, ids=data.validated_data["ids"]
        )
        unread = services.notifications_unread(user_id=request.user.pk)
        return Response(MarkReadOutput({"marked": marked, "unread": unread}).data)


class PreferenceApi(APIView):
    """My notification preferences: email on or off, and kinds not wanted by email."""

    @extend_schema(responses=PreferenceSerializer, operation_id="notification_preferences_get")
    def get(self, request):
        return Response(
            PreferenceSerializer(services.preferences_get(user_id=request.user.pk)).data
        )

    @extend_schema(
        request=PreferenceSerializer,
        responses={200: PreferenceSerializer} | INVALID,
        operation_id="notification_preferences_set",
    )
    def put(self, request):
        data = PreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.preferences_set(user_id=request.user.pk, **data.validated_data)
        return Response(PreferenceSerializer(saved).data)
