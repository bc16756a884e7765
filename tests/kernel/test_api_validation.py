"""Input validation on a shared serializer instance behaves as a fresh serializer does."""

import pytest
from rest_framework import serializers

from prime_now.kernel.api.validation import validated


class LineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=8)
    quantity = serializers.IntegerField(min_value=1)


class BasketInput(serializers.Serializer):
    lines = LineInput(many=True, allow_empty=False)
    note = serializers.CharField(required=False, default="")


def fresh_errors(data):
    serializer = BasketInput(data=data)
    assert not serializer.is_valid()
    return serializer.errors


def test_valid_input_gives_what_a_fresh_serializer_gives():
    data = {"lines": [{"sku": "A1", "quantity": "2"}]}
    fresh = BasketInput(data=data)
    fresh.is_valid(raise_exception=True)

    assert validated(BasketInput, data) == fresh.validated_data


@pytest.mark.parametrize(
    "data",
    [
        {"lines": []},
        {"lines": [{"sku": "A1", "quantity": 0}, {"sku": "TOO-LONG-SKU"}]},
        {"lines": "not a list"},
        ["not", "an", "object"],
    ],
)
def test_invalid_input_raises_the_errors_a_fresh_serializer_reports(data):
    with pytest.raises(serializers.ValidationError) as raised:
        validated(BasketInput, data)

    assert raised.value.detail == fresh_errors(data)


def test_one_request_leaves_nothing_behind_for_the_next():
    with pytest.raises(serializers.ValidationError):
        validated(BasketInput, {"lines": [{"sku": "A1", "quantity": 0}]})

    assert validated(BasketInput, {"lines": [{"sku": "B2", "quantity": 1}]})["lines"] == [
        {"sku": "B2", "quantity": 1}
    ]
