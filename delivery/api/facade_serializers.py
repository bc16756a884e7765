"""Input and output shapes of the façade's API (promise, checkout)."""

from rest_framework import serializers

from delivery.services.checkout import MAX_LINES, MAX_QUANTITY


class WindowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    hub_code = serializers.CharField()
    kind = serializers.ChoiceField(choices=["one_hour", "two_hour"])
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    fee = serializers.DecimalField(max_digits=8, decimal_places=2)
    free_above = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    capacity = serializers.IntegerField()
    booked = serializers.IntegerField()
    available = serializers.IntegerField()
    cutoff_at = serializers.DateTimeField()


class PromiseInput(serializers.Serializer):
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=16)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
    basket = serializers.CharField(
        required=False, allow_blank=True, help_text="Comma-separated SKUs."
    )

    def validate(self, attrs):
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


SKU_MAX_LENGTH = 64


class CheckoutLinesInput(serializers.ListSerializer):
    """The checkout's lines: CheckoutLineInput(many=True), with the usual body (each line a
    plain `{"sku": "...", "quantity": n}` that is already valid) accepted as it is. The
    nested serializer costs about a hundred calls a line; anything else still goes through it,
    so what is accepted, how it is converted and every error are DRF's own."""

    def run_validation(self, data=serializers.empty):
        plain = self._plain(data)
        return plain if plain is not None else super().run_validation(data)

    def _plain(self, data) -> list[dict] | None:
        if type(data) is not list or not 1 <= len(data) <= (self.max_length or len(data)):
            return None
        lines = []
        for line in data:
            if type(line) is not dict:
                return None
            sku, quantity = line.get("sku"), line.get("quantity")
            if not (
                type(sku) is str
                and 0 < len(sku) <= SKU_MAX_LENGTH
                and sku.isascii()
                and sku.isprintable()
                and sku.strip() == sku
                and type(quantity) is int
                and 1 <= quantity <= MAX_QUANTITY
            ):
                return None
            lines.append({"sku": sku, "quantity": quantity})
        return lines


class CheckoutLineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=SKU_MAX_LENGTH)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)

    class Meta:
        list_serializer_class = CheckoutLinesInput


class CheckoutInput(serializers.Serializer):
    lines = CheckoutLineInput(many=True, allow_empty=False, max_length=MAX_LINES)
    address = serializers.CharField(max_length=500)
    postcode = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    lat = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-90, max_value=90
    )
    lon = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-180, max_value=180
    )
    window_id = serializers.IntegerField(min_value=1)
    tip = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, required=False, default="0.00"
    )
    payment_token = serializers.CharField(max_length=200)
    expected_subtotal = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )

    def validate(self, attrs):
        if not attrs.get("postcode") and (attrs.get("lat") is None or attrs.get("lon") is None):
            raise serializers.ValidationError("Give a postcode, or both lat and lon.")
        return attrs


class CheckoutOutput(serializers.Serializer):
    order_number = serializers.CharField()
    total = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()
    window = WindowOutput()


# The output fields, made once: CheckoutOutput builds (and deep-copies) its fields per use.
_WHEN = serializers.DateTimeField()
_FEE = serializers.DecimalField(max_digits=8, decimal_places=2)
_TOTAL = serializers.DecimalField(max_digits=10, decimal_places=2)


def checkout_output(result) -> dict:
    """CheckoutOutput(result).data, field for field, without building the serializer."""
    window = result.window
    return {
        "order_number": str(result.order_number),
        "total": _TOTAL.to_representation(result.total),
        "currency": str(result.currency),
        "window": {
            "id": int(window.id),
            "hub_code": str(window.hub_code),
            "kind": str(window.kind),
            "start": _WHEN.to_representation(window.start),
            "end": _WHEN.to_representation(window.end),
            "fee": _FEE.to_representation(window.fee),
            "free_above": None
            if window.free_above is None
            else _FEE.to_representation(window.free_above),
            "capacity": int(window.capacity),
            "booked": int(window.booked),
            "available": int(window.available),
            "cutoff_at": _WHEN.to_representation(window.cutoff_at),
        },
    }
