from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    first_name = serializers.CharField(allow_blank=True)
    last_name = serializers.CharField(allow_blank=True)
    roles = serializers.ListField(child=serializers.CharField())


class MeGetApi(APIView):
    """The signed-in user and their roles."""

    @extend_schema(responses=MeOutput, operation_id="me_get")
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)


class TokenCreateApi(ObtainAuthToken):
    """Exchange a username and password for an API token (mobile apps)."""

    permission_classes = ()
    renderer_classes = ObtainAuthToken.renderer_classes
