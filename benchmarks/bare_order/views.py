from decimal import Decimal

from django.db import transaction
from django.db.models import F
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Line, Order, Slot, Stock

PRICE = Decimal("10.00")


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."


class OrderSerializer(serializers.Serializer):
    products = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=3, max_length=3
    )
    slot = serializers.IntegerField(min_value=1)

    def validate_products(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Products must be distinct.")
        return value


class OrderView(APIView):
    def post(self, request):
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        products = serializer.validated_data["products"]
        slot = serializer.validated_data["slot"]
        with transaction.atomic():
            reserved = Stock.objects.filter(id__in=products, on_hand__gt=F("reserved")).update(
                reserved=F("reserved") + 1
            )
            if reserved < len(products):
                raise Conflict("Out of stock.")
            order = Order.objects.create(customer_id=1, total=PRICE * len(products))
            Line.objects.bulk_create(
                Line(order=order, product_id=product, quantity=1, price=PRICE)
                for product in products
            )
            booked = Slot.objects.filter(id=slot, booked__lt=F("capacity")).update(
                booked=F("booked") + 1
            )
            if not booked:
                raise Conflict("Slot full.")
        return Response({"id": order.id}, status=status.HTTP_201_CREATED)
