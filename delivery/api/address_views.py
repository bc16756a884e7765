"""The signed-in customer's address book (chosen at checkout with `address_id`)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from delivery.services import address_delete, address_get, address_save, addresses_for

from .facade_serializers import AddressInput, AddressListOutput, AddressOutput

ID = [OpenApiParameter("address_id", int, OpenApiParameter.PATH)]
INVALID = {400: OpenApiResponse(description="Invalid input")}
NOT_FOUND = {404: OpenApiResponse(description="Not found (or not yours)")}
TAKEN = {409: OpenApiResponse(description="You already have an address with that label")}


class AddressListApi(APIView):
    """My saved addresses (the default first); POST adds one (the first is the default)."""

    @extend_schema(responses=AddressListOutput, operation_id="address_list")
    def get(self, request):
        return Response(
            AddressListOutput({"results": addresses_for(customer_id=request.user.pk)}).data
        )

    @extend_schema(
        request=AddressInput,
        responses={201: AddressOutput} | INVALID | TAKEN,
        operation_id="address_add",
    )
    def post(self, request):
        data = AddressInput(data=request.data)
        data.is_valid(raise_exception=True)
        saved = address_save(customer_id=request.user.pk, **data.validated_data)
        return Response(AddressOutput(saved).data, status=status.HTTP_201_CREATED)


class AddressApi(APIView):
    """One of my saved addresses: read, change (PUT), forget (DELETE)."""

    @extend_schema(
        responses={200: AddressOutput} | NOT_FOUND, parameters=ID, operation_id="address_get"
    )
    def get(self, request, address_id: int):
        return Response(
            AddressOutput(address_get(customer_id=request.user.pk, address_id=address_id)).data
        )

    @extend_schema(
        request=AddressInput,
        responses={200: AddressOutput} | INVALID | NOT_FOUND | TAKEN,
        parameters=ID,
        operation_id="address_update",
    )
    def put(self, request, address_id: int):
        data = AddressInput(data=request.data)
        data.is_valid(raise_exception=True)
        saved = address_save(
            customer_id=request.user.pk, address_id=address_id, **data.validated_data
        )
        return Response(AddressOutput(saved).data)

    @extend_schema(
        request=None,
        responses={204: None} | NOT_FOUND,
        parameters=ID,
        operation_id="address_delete",
    )
    def delete(self, request, address_id: int):
        address_delete(customer_id=request.user.pk, address_id=address_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
