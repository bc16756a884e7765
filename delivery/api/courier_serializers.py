"""Input and output shapes of the courier API (explicit, one per operation)."""

from rest_framework import serializers

from prime_now.kernel.api.serializers import JsonInput

from ..models.transport import DeliveryJob


class CourierOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    vehicle = serializers.CharField()
    bag_capacity = serializers.IntegerField()
    home_hub_code = serializers.CharField()
    hub_codes = serializers.ListField(
        child=serializers.CharField(),
        help_text="The hubs this courier works for, home hub first: blocks are claimed there.",
    )
    rating = serializers.DecimalField(max_digits=3, decimal_places=2)
    online = serializers.BooleanField()
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    located_at = serializers.DateTimeField(allow_null=True)


class StatusInput(JsonInput):
    online = serializers.BooleanField()


class LocationInput(JsonInput):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)
    speed_kmh = serializers.FloatField(min_value=0, max_value=200, required=False, allow_null=True)


class LocationOutput(serializers.Serializer):
    accepted_at = serializers.DateTimeField()
    stale_after = serializers.DateTimeField()


class BlockOutput(serializers.Serializer):
    id = serializers.IntegerField()
    hub_code = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    wanted = serializers.IntegerField()
    claimed = serializers.IntegerField()
    open_slots = serializers.IntegerField()
    claimed_by_me = serializers.BooleanField()
    forfeit_until = serializers.DateTimeField()


class BlocksAvailableQuery(serializers.Serializer):
    hub = serializers.CharField(required=False, max_length=32)


class OfferOutput(serializers.Serializer):
    id = serializers.CharField()
    job_id = serializers.CharField()
    status = serializers.CharField()
    hub_code = serializers.CharField()
    bags = serializers.IntegerField()
    postcode = serializers.CharField()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    distance_to_hub_km = serializers.FloatField(allow_null=True)
    dropoff_distance_km = serializers.FloatField(allow_null=True)
    age_restricted = serializers.BooleanField()
    expires_at = serializers.DateTimeField()
    joins_trip = serializers.BooleanField()


class StopOutput(serializers.Serializer):
    job_id = serializers.CharField()
    sequence = serializers.IntegerField()
    status = serializers.CharField()
    postcode = serializers.CharField()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    bags = serializers.IntegerField()
    age_restricted = serializers.BooleanField()
    eta = serializers.DateTimeField(allow_null=True)
    current = serializers.BooleanField()
    order_number = serializers.CharField(allow_null=True)
    address = serializers.CharField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)


class TripOutput(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    hub_code = serializers.CharField()
    hub_lat = serializers.FloatField(allow_null=True)
    hub_lon = serializers.FloatField(allow_null=True)
    bags = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    stops = StopOutput(many=True)


class TripEnvelopeOutput(serializers.Serializer):
    trip = TripOutput(allow_null=True)


class PickUpInput(JsonInput):
    bags = serializers.IntegerField(min_value=1, max_value=50)


class DeliverInput(JsonInput):
    proof_kind = serializers.ChoiceField(choices=DeliveryJob.ProofKind.choices)
    proof_reference = serializers.CharField(max_length=200)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)
    age_verified = serializers.BooleanField(default=False)


class FailInput(JsonInput):
    reason = serializers.ChoiceField(choices=DeliveryJob.FailureReason.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ProofUploadInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DeliveryJob.ProofKind.choices)
    image = serializers.FileField(help_text="A JPEG or PNG image of at most 5 MB.")


class ProofOutput(serializers.Serializer):
    id = serializers.CharField(
        help_text="Give it as proof_reference when marking the stop delivered."
    )
    kind = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class EarningsInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=[("day", "Day"), ("week", "Week")], default="day")
    start = serializers.DateField(
        required=False, help_text="Default: 6 days (day) or 3 weeks (week) before end."
    )
    end = serializers.DateField(required=False, help_text="Default: today (UTC).")

    def validate(self, attrs):
        from datetime import timedelta

        from django.utils import timezone

        end = attrs.get("end") or timezone.now().date()
        span = timedelta(days=6) if attrs["period"] == "day" else timedelta(weeks=3)
        start = attrs.get("start") or end - span
        if start > end:
            raise serializers.ValidationError({"start": ["Must be on or before end."]})
        if (end - start).days > 366:
            raise serializers.ValidationError({"start": ["At most a year at a time."]})
        return {**attrs, "start": start, "end": end}


class EarningsRowOutput(serializers.Serializer):
    period_start = serializers.DateField()
    trips = serializers.IntegerField()
    deliveries = serializers.IntegerField()
    base_pay = serializers.DecimalField(max_digits=12, decimal_places=2)
    tips = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)


class EarningsOutput(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    rows = EarningsRowOutput(many=True)
    total = EarningsRowOutput()
