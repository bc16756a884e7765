from rest_framework import serializers

from prime_now.kernel.api.serializers import JsonInput

from ..services import PickJobStatus


class PickLineOutput(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    aisle = serializers.CharField(allow_blank=True)
    bin = serializers.CharField(allow_blank=True)
    substitute_sku = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    picked_quantity = serializers.IntegerField(allow_null=True)
    substitute_quantity = serializers.IntegerField()


class PickJobOutput(serializers.Serializer):
    id = serializers.CharField()
    order_ref = serializers.CharField()
    hub_code = serializers.CharField()
    status = serializers.CharField()
    due_by = serializers.DateTimeField()
    bags = serializers.IntegerField()
    picker_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField(allow_null=True)
    claimed_at = serializers.DateTimeField(allow_null=True)
    picked_at = serializers.DateTimeField(allow_null=True)
    packed_at = serializers.DateTimeField(allow_null=True)
    lines = PickLineOutput(many=True)


class PickJobListInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=PickJobStatus.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)


class PickLineConfirmInput(JsonInput):
    picked_quantity = serializers.IntegerField(min_value=0, max_value=1000)
    substitute_quantity = serializers.IntegerField(min_value=0, max_value=1000, default=0)


class PickJobPackInput(JsonInput):
    bags = serializers.IntegerField(min_value=1, max_value=50)
