from typing import Any, cast

from django.contrib.auth import authenticate, user_logged_in, user_logged_out
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from prime_now.kernel import tokens
from prime_now.kernel.models import DeviceToken

from .auth import DeviceTokenAuthentication
from .serializers import JsonInput


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


class TokenCreateInput(JsonInput):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    device = serializers.CharField(
        max_length=100,
        required=False,
        default="",
        allow_blank=True,
        help_text="A name for this device (e.g. 'Ana's phone'), shown when listing sign-ins.",
    )


class TokenOutput(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(
        help_text="When the token expires unless used; each use moves it forward."
    )
    device = serializers.CharField(allow_blank=True)


class TokenCreateApi(APIView):
    """Exchange a username and password for an API token for this device (mobile apps).

    The token expires after a period without use; repeated failures lock the account out
    for a while (429)."""

    authentication_classes = ()
    permission_classes = ()
    throttle_scope = "auth"

    @extend_schema(
        request=TokenCreateInput, responses=TokenOutput, operation_id="auth_token_create"
    )
    def post(self, request: Request) -> Response:
        body = TokenCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        args = body.validated_data
        # The Django request: django-axes counts failures and locks out on it.
        user = authenticate(
            request=request._request, username=args["username"], password=args["password"]
        )
        if user is None:
            raise serializers.ValidationError("Unable to sign in with that username and password.")
        token, plain = tokens.token_issue(user=user, device=args["device"])
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        return Response(
            TokenOutput({"token": plain, "expiry": token.expiry, "device": token.device}).data
        )


class TokenLogoutApi(APIView):
    """Revoke the token this request is signed with (this device only)."""

    authentication_classes = (DeviceTokenAuthentication,)
    permission_classes = (IsAuthenticated,)
    throttle_scope = "auth"

    @extend_schema(request=None, responses={204: None}, operation_id="auth_logout")
    def post(self, request: Request) -> Response:
        tokens.token_revoke(token=cast(DeviceToken, request.auth))
        user_logged_out.send(sender=type(request.user), request=request._request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenLogoutAllApi(APIView):
    """Revoke every token of the signed-in user (every device)."""

    authentication_classes = (DeviceTokenAuthentication,)
    permission_classes = (IsAuthenticated,)
    throttle_scope = "auth"

    @extend_schema(request=None, responses={204: None}, operation_id="auth_logout_all")
    def post(self, request: Request) -> Response:
        tokens.tokens_revoke_all(user_id=cast(int, request.user.pk))
        user_logged_out.send(sender=type(request.user), request=request._request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
