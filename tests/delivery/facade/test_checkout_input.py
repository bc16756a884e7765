"""The checkout's lines are validated as DRF's nested serializer validates them, whatever the
body: the plain-body shortcut (CheckoutLinesInput) changes the cost, never the answer."""

import string

from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from delivery.api.facade_serializers import CheckoutInput, CheckoutLineInput
from delivery.services.checkout import MAX_LINES, MAX_QUANTITY

DRF_LINES = serializers.ListSerializer(
    child=CheckoutLineInput(), allow_empty=False, max_length=MAX_LINES
)
CHECKOUT_LINES = CheckoutInput().fields["lines"]

skus = st.one_of(
    st.text(max_size=70),
    st.text(alphabet="AB- \t\x00", max_size=6),
    st.sampled_from(["SKU-1", " SKU-1", "SKU-1 ", "", "x" * 64, "x" * 65, "é"]),
    st.integers(),
    st.none(),
)
quantities = st.one_of(
    st.integers(min_value=-2, max_value=MAX_QUANTITY + 2),
    st.sampled_from(["3", "x", 2.0, 2.5, True, None]),
)
lines = st.one_of(
    st.fixed_dictionaries({"sku": skus, "quantity": quantities}),
    st.fixed_dictionaries({"sku": skus}),
    st.fixed_dictionaries({"sku": skus, "quantity": quantities, "extra": st.integers()}),
    st.sampled_from(["SKU-1", 3, None, []]),
)
bodies = st.one_of(
    st.lists(lines, max_size=MAX_LINES + 2),
    st.sampled_from([None, "SKU-1", {"sku": "SKU-1", "quantity": 1}]),
)


# Bodies close to the plain case, so that the shortcut's own bounds are what is tested.
plain_lines = st.fixed_dictionaries(
    {
        "sku": st.text(alphabet=string.printable, max_size=66),
        "quantity": st.integers(min_value=-1, max_value=MAX_QUANTITY + 1),
    }
)
plain_bodies = st.lists(plain_lines, max_size=MAX_LINES + 1)


def outcome(field, data):
    try:
        return "valid", field.run_validation(data)
    except serializers.ValidationError as error:
        return "invalid", error.detail


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_any_lines_are_answered_as_drf_answers_them(data):
    assert outcome(CHECKOUT_LINES, data) == outcome(DRF_LINES, data)


@settings(max_examples=400, deadline=None)
@given(plain_bodies)
@example([{"sku": "x" * 64, "quantity": MAX_QUANTITY}])
@example([{"sku": "x" * 65, "quantity": 1}])
@example([{"sku": "SKU", "quantity": 1}] * (MAX_LINES + 1))
def test_nearly_plain_lines_are_answered_as_drf_answers_them(data):
    event("shortcut" if CHECKOUT_LINES._plain(data) is not None else "DRF")
    assert outcome(CHECKOUT_LINES, data) == outcome(DRF_LINES, data)


def test_a_plain_body_takes_the_shortcut():
    # Given lines that are already valid (so the nested serializer is never needed)
    data = [{"sku": f"SKU-{n}", "quantity": n} for n in range(1, 9)]
    # Then they are taken as they are, without the nested serializer's field validation
    assert CHECKOUT_LINES._plain(data) == data
    assert CHECKOUT_LINES.run_validation(data) == data
