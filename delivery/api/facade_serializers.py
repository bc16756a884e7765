"""Input and output shapes of the façade's API (promise, checkout)."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from ordering.services import BASKET_LIMITS, SubstitutionChoice
from prime_now.kernel.api.serializers import NOT_BLANK, JsonInput, required_with


class WindowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    hub_code = serializers.CharField()
    kind = serializers.ChoiceField(choices=["one_hour", "two_hour"])
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    free_above = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    capacity = serializers.IntegerField()
    booked = serializers.IntegerField()
    available = serializers.IntegerField()
    cutoff_at = serializers.DateTimeField()


SKU_MAX_LENGTH = 64


# PromiseInput.validate's rule as the schema states it (the views' `query_constraints`): a
# postcode, or both lat and lon (then the postcode is not needed).
PLACE_CONSTRAINTS = {
    "anyOf": [
        {"required": ["lat", "lon"]},
        {
            "required": ["postcode"],
            "properties": {"postcode": NOT_BLANK},
            "not": {"anyOf": [{"required": ["lat"]}, {"required": ["lon"]}]},
        },
    ]
}


class PromiseInput(serializers.Serializer):
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=16)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
    basket = serializers.CharField(
        required=False,
        allow_blank=True,
        # A full basket of the longest SKUs and their commas: a longer query would meet the
        # web server's limit on a request line (4 KB) before the API.
        max_length=BASKET_LIMITS.max_lines * (SKU_MAX_LENGTH + 1),
        help_text="Comma-separated SKUs.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_point = "lat" in attrs and "lon" in attrs
        if not attrs.get("postcode", "").strip() and not has_point:
            raise serializers.ValidationError("Give a postcode, or both lat and lon.")
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError("Give both lat and lon, or neither.")
        attrs["basket_skus"] = [s.strip() for s in attrs.pop("basket", "").split(",") if s.strip()]
        return attrs


class PromiseOutput(serializers.Serializer):
    available = serializers.BooleanField()
    hub_code = serializers.CharField(allow_null=True)
    hub_name = serializers.CharField(allow_null=True)
    windows = WindowOutput(many=True)
    earliest_delivery = serializers.DateTimeField(allow_null=True)
    unavailable_skus = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()
    stale = serializers.BooleanField(help_text="The hub's last good promise, `stale_seconds` old.")
    stale_seconds = serializers.IntegerField(allow_null=True)
    conservative = serializers.BooleanField(
        help_text="The hub's standard two-hour promise (a service behind the promise is down, "
        "or the precise promise is shed)."
    )


class WindowPickerInput(PromiseInput):
    subtotal = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        default=Decimal("0"),
        help_text="The basket's subtotal: fees are waived from a window's free_above.",
    )


class WindowChoiceOutput(serializers.Serializer):
    window = WindowOutput()
    fee = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="For this basket.")
    full = serializers.BooleanField()


class WindowDayOutput(serializers.Serializer):
    day = serializers.DateField(help_text="The hub's local date.")
    choices = WindowChoiceOutput(many=True)


class WindowPickerOutput(serializers.Serializer):
    available = serializers.BooleanField()
    message = serializers.CharField()
    hub_code = serializers.CharField(allow_null=True)
    timezone = serializers.CharField(allow_null=True)
    soonest = WindowChoiceOutput(allow_null=True, help_text="The first window with a seat.")
    next = WindowChoiceOutput(many=True, help_text="The next few of each kind.")
    days = WindowDayOutput(many=True, help_text="The rest, by the hub's local day.")


class CheckoutLineInput(JsonInput):
    openapi_constraints = required_with(
        "substitution",
        SubstitutionChoice.SPECIFIC,
        "substitute_sku",
        choices=SubstitutionChoice.values,
        nullable=True,
    )
    sku = serializers.CharField(max_length=SKU_MAX_LENGTH)
    quantity = serializers.IntegerField(min_value=1, max_value=BASKET_LIMITS.max_line_quantity)
    substitution = serializers.ChoiceField(
        choices=SubstitutionChoice.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="If the hub cannot find it; left out: the department's default "
        "(best_match, or none for e.g. baby and health).",
    )
    substitute_sku = serializers.CharField(
        max_length=SKU_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text='The product wanted instead; required with "specific".',
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        specific = attrs.get("substitution") == SubstitutionChoice.SPECIFIC
        if specific and not attrs.get("substitute_sku", "").strip():
            raise serializers.ValidationError({"substitute_sku": ['Required with "specific".']})
        return attrs


NULL = {"enum": [None], "nullable": True}


class CheckoutInput(JsonInput):
    # Where to deliver: a saved address (address_id, nothing typed), or a typed address with
    # its postcode, or with both lat and lon.
    openapi_constraints = {
        "anyOf": [
            {
                "required": ["address_id"],
                "properties": {
                    "address_id": {"type": "integer"},
                    "address": {"maxLength": 0},
                    "postcode": {"maxLength": 0},
                    "lat": NULL,
                    "lon": NULL,
                },
            },
            {
                "required": ["address", "postcode"],
                "properties": {
                    "address": NOT_BLANK,
                    "postcode": {"minLength": 1},
                    "address_id": NULL,
                },
            },
            {
                "required": ["address", "lat", "lon"],
                "properties": {
                    "address": NOT_BLANK,
                    "lat": {"type": "number"},
                    "lon": {"type": "number"},
                    "address_id": NULL,
                },
            },
        ]
    }
    lines: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=CheckoutLineInput(), allow_empty=False, max_length=BASKET_LIMITS.max_lines
    )
    address_id = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="A saved address (GET /api/v1/addresses); instead of address, postcode, "
        "lat and lon.",
    )
    address = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    postcode = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    lat = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-90, max_value=90
    )
    lon = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-180, max_value=180
    )
    window_id = serializers.IntegerField(min_value=1)
    tip = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, default=Decimal("0.00")
    )
    payment_token = serializers.CharField(max_length=200)
    expected_subtotal = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("address_id") is not None:
            typed = [f for f in ("address", "postcode") if attrs.get(f)]
            typed += [f for f in ("lat", "lon") if attrs.get(f) is not None]
            if typed:
                raise serializers.ValidationError(
                    {name: ["Leave out with address_id."] for name in typed}
                )
            return attrs
        if not attrs.get("address", "").strip():
            raise serializers.ValidationError({"address": ["Required without address_id."]})
        if not attrs.get("postcode") and (attrs.get("lat") is None or attrs.get("lon") is None):
            raise serializers.ValidationError("Give a postcode, or both lat and lon.")
        return attrs


class CheckoutOutput(serializers.Serializer):
    order_number = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    window = WindowOutput()


class AddressInput(JsonInput):
    # "label" shadows Serializer.label in the stubs only (DRF sets it from the field name).
    label = serializers.CharField(max_length=40, help_text='"Home", "Work", ...')  # type: ignore[assignment]
    address = serializers.CharField(max_length=200)
    postcode = serializers.CharField(max_length=16)
    make_default = serializers.BooleanField(required=False, default=False)


class AddressOutput(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    address = serializers.CharField()
    postcode = serializers.CharField()
    lat = serializers.FloatField(allow_null=True, help_text="The postcode's centre, if known.")
    lon = serializers.FloatField(allow_null=True)
    is_default = serializers.BooleanField()


class AddressListOutput(serializers.Serializer):
    results = AddressOutput(many=True)
