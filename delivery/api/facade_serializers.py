"""Input and output shapes of the façade's API (promise, checkout)."""

import re
from decimal import Decimal

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


class CheckoutLineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


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


_AMOUNT_8_2 = re.compile(r"\d{1,6}(\.\d{1,2})?")
_AMOUNT_10_2 = re.compile(r"\d{1,8}(\.\d{1,2})?")
_CENT = Decimal("0.01")


_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")  # as DRF's CharField refuses them


def _text(value, max_length: int, *, blank: bool = False) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and value == value.strip()
        and (blank or bool(value))
        and not _REFUSED_CHARACTERS.search(value)
    )


def _amount(value, pattern: re.Pattern) -> Decimal | None:
    if isinstance(value, str) and pattern.fullmatch(value):
        return Decimal(value).quantize(_CENT)
    return None


def _coordinate(data, name: str, limit: int) -> tuple[bool, float | None]:
    value = data.get(name)
    if value is None:
        return True, None
    if type(value) in (int, float) and -limit <= value <= limit:
        return True, float(value)
    return False, None


def checkout_input_fast(data) -> dict | None:
    """CheckoutInput's validated data for a plainly well-formed body, without DRF's field
    machinery (the checkout's hot path); None for anything else, which then goes through
    CheckoutInput and gets its errors. Accepts only input CheckoutInput accepts unchanged,
    so both give the same validated data (and the same request fingerprint)."""
    if not isinstance(data, dict):
        return None
    lines = data.get("lines")
    if not isinstance(lines, list) or not 0 < len(lines) <= MAX_LINES:
        return None
    clean_lines = []
    for line in lines:
        if not isinstance(line, dict):
            return None
        sku, quantity = line.get("sku"), line.get("quantity")
        if not _text(sku, 64) or type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
            return None
        clean_lines.append({"sku": sku, "quantity": quantity})
    address, postcode = data.get("address"), data.get("postcode", "")
    token, window_id = data.get("payment_token"), data.get("window_id")
    if not (_text(address, 500) and _text(postcode, 16, blank=True) and _text(token, 200)):
        return None
    if type(window_id) is not int or window_id < 1:
        return None
    lat_ok, lat = _coordinate(data, "lat", 90)
    lon_ok, lon = _coordinate(data, "lon", 180)
    if not (lat_ok and lon_ok) or (not postcode and (lat is None or lon is None)):
        return None
    tip = "0.00"  # CheckoutInput's default, as it gives it (a string)
    if "tip" in data:
        tip = _amount(data["tip"], _AMOUNT_8_2)
        if tip is None:
            return None
    expected = data.get("expected_subtotal")
    if expected is not None:
        expected = _amount(expected, _AMOUNT_10_2)
        if expected is None:
            return None
    return {
        "lines": clean_lines,
        "address": address,
        "postcode": postcode,
        "lat": lat,
        "lon": lon,
        "window_id": window_id,
        "tip": tip,
        "payment_token": token,
        "expected_subtotal": expected,
    }


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
