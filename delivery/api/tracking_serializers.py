from rest_framework import serializers


class TimelineEntryOutput(serializers.Serializer):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class TrackingOutput(serializers.Serializer):
    order_number = serializers.CharField()
    status = serializers.CharField()
    timeline = TimelineEntryOutput(many=True)
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    delivery_status = serializers.CharField(allow_null=True)
    courier_name = serializers.CharField(allow_null=True)
    courier_lat = serializers.FloatField(allow_null=True)
    courier_lon = serializers.FloatField(allow_null=True)
    eta = serializers.DateTimeField(allow_null=True)
    stops_before = serializers.IntegerField(allow_null=True)
