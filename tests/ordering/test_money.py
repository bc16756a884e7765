"""Money: the rounding rule, totals, tips, short picks and substitutes (docs/ordering.md)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordering import services
from ordering.models import SandboxAuthorization
from ordering.services import pricing
from prime_now.kernel.errors import ValidationError
from tests.catalog.factories import ProductFactory
from tests.ordering.factories import OrderFactory, OrderLineInputFactory

pytestmark = pytest.mark.django_db
D = Decimal


def line(sku, price, qty):
    return OrderLineInputFactory(sku=sku, unit_price=D(price), quantity=qty)


def test_totals_add_up_from_rounded_lines():
    order = OrderFactory(
        lines=[line("A", "1.99", 3), line("B", "4.50", 1)],
        delivery_fee=D("3.99"),
        tip=D("2.00"),
    )
    assert [ln.line_total for ln in order.lines] == [D("5.97"), D("4.50")]
    assert (order.subtotal, order.total) == (D("10.47"), D("16.46"))


@pytest.mark.parametrize(
    ("price", "qty", "line_total"),
    [("0.335", 3, "1.02"), ("0.334", 3, "0.99"), ("0.125", 2, "0.26"), ("19.995", 1, "20.00")],
)
def test_a_unit_price_is_rounded_half_up_once_before_multiplying(price, qty, line_total):
    order = OrderFactory(lines=[line("A", price, qty)])
    assert order.lines[0].line_total == D(line_total)


def test_the_tip_is_rounded_half_up_and_added_to_the_total():
    order = OrderFactory(lines=[line("A", "10.00", 1)], delivery_fee=D("0"), tip=D("1.005"))
    assert (order.tip, order.total) == (D("1.01"), D("11.01"))


@pytest.mark.parametrize("tip", [D("-0.01"), D("100.01")])
def test_a_tip_out_of_bounds_is_refused(tip):
    with pytest.raises(ValidationError) as caught:
        OrderFactory(tip=tip)
    assert "tip" in caught.value.fields


def test_a_float_amount_is_refused():
    with pytest.raises(ValidationError):
        OrderFactory(tip=1.5)


def test_a_short_pick_releases_the_missing_amount_and_captures_the_rest():
    # Given 3 x 1.99 and 1 x 4.50, fee 3.99, tip 2.00: 16.46 authorized
    order = OrderFactory(
        lines=[line("A", "1.99", 3), line("B", "4.50", 1)], delivery_fee=D("3.99"), tip=D("2.00")
    )
    services.order_mark_picking(number=order.number)
    # When one A is missing
    adjusted = services.order_adjust_after_pick(
        number=order.number,
        picked=[
            services.PickedLineInput(sku="A", picked_quantity=2),
            services.PickedLineInput(sku="B", picked_quantity=1),
        ],
    )
    # Then 1.99 is released at once; fee and tip stay
    assert (adjusted.subtotal, adjusted.total) == (D("8.48"), D("14.47"))
    assert adjusted.amount_authorized == D("14.47")
    assert adjusted.lines[0].missing and adjusted.lines[0].missing_quantity == 1
    assert not adjusted.lines[1].missing
    assert SandboxAuthorization.objects.get().authorized_minor == 1447
    # And delivery captures the picked amount only
    services.order_mark_packed(number=order.number)
    services.order_mark_out_for_delivery(number=order.number)
    delivered = services.order_mark_delivered(number=order.number)
    assert delivered.amount_captured == D("14.47")


def test_a_dearer_substitute_costs_no_more_than_the_item_it_replaces():
    dearer = ProductFactory(sku="SUB-1", name="Organic milk", price=D("5.25"))
    order = OrderFactory(lines=[line("B", "4.50", 2)])
    adjusted = services.order_adjust_after_pick(
        number=order.number,
        picked=[
            services.PickedLineInput(
                sku="B", picked_quantity=1, substitute_sku=dearer.sku, substitute_quantity=1
            )
        ],
    )
    only = adjusted.lines[0]
    assert (only.substitute_sku, only.substitute_name) == ("SUB-1", "Organic milk")
    assert only.substitute_unit_price == D("4.50")
    assert only.line_total == D("9.00")
    assert not only.missing


def test_a_cheaper_substitute_is_charged_at_its_own_price():
    cheaper = ProductFactory(sku="SUB-2", price=D("3.10"))
    order = OrderFactory(lines=[line("B", "4.50", 2)], delivery_fee=D("0"), tip=D("0"))
    adjusted = services.order_adjust_after_pick(
        number=order.number,
        picked=[
            services.PickedLineInput(
                sku="B", picked_quantity=0, substitute_sku=cheaper.sku, substitute_quantity=2
            )
        ],
    )
    assert adjusted.total == D("6.20")
    assert adjusted.amount_authorized == D("6.20")


def test_the_same_picks_again_are_a_no_op():
    order = OrderFactory(lines=[line("A", "2.00", 2)])
    picks = [services.PickedLineInput(sku="A", picked_quantity=1)]
    first = services.order_adjust_after_pick(number=order.number, picked=picks)
    again = services.order_adjust_after_pick(number=order.number, picked=picks)
    assert again == first


def test_different_picks_after_the_first_are_refused():
    order = OrderFactory(lines=[line("A", "2.00", 2)])
    services.order_adjust_after_pick(
        number=order.number, picked=[services.PickedLineInput(sku="A", picked_quantity=1)]
    )
    with pytest.raises(services.IllegalTransitionError):
        services.order_adjust_after_pick(
            number=order.number, picked=[services.PickedLineInput(sku="A", picked_quantity=2)]
        )


@pytest.mark.parametrize(
    ("picks", "field"),
    [
        ([], "A"),  # a line not reported
        ([("A", 3, None, 0)], "A"),  # more than ordered
        ([("A", 1, None, 0), ("Z", 1, None, 0)], "Z"),  # not on the order
        ([("A", 1, "NOPE", 1)], "NOPE"),  # unknown substitute
        ([("A", -1, None, 0)], "A"),
        ([("A", 1, None, 1)], "A"),  # substitute quantity without a SKU
    ],
)
def test_picks_that_do_not_match_the_order_are_refused(picks, field):
    order = OrderFactory(lines=[line("A", "2.00", 2)])
    with pytest.raises(services.PickAdjustmentError) as caught:
        services.order_adjust_after_pick(
            number=order.number,
            picked=[
                services.PickedLineInput(
                    sku=s, picked_quantity=p, substitute_sku=ss, substitute_quantity=sq
                )
                for s, p, ss, sq in picks
            ],
        )
    assert field in caught.value.fields
    assert services.order_get(number=order.number).total == order.total


def test_picks_cannot_be_adjusted_once_packed():
    order = OrderFactory(status="packed")
    with pytest.raises(services.IllegalTransitionError):
        services.order_adjust_after_pick(
            number=order.number,
            picked=[services.PickedLineInput(sku=ln.sku, picked_quantity=0) for ln in order.lines],
        )


def test_the_adjustment_is_on_the_timeline():
    order = OrderFactory(lines=[line("A", "2.00", 2)])
    adjusted = services.order_adjust_after_pick(
        number=order.number, picked=[services.PickedLineInput(sku="A", picked_quantity=1)]
    )
    assert "1 missing" in adjusted.timeline[-1].reason
    assert "2.00 USD released" in adjusted.timeline[-1].reason


amounts = st.decimals(min_value=D("0"), max_value=D("999.999"), places=3)


@settings(max_examples=200, deadline=None)
@given(
    prices=st.lists(st.tuples(amounts, st.integers(1, 20)), min_size=1, max_size=8),
    fee=amounts,
    tip=st.decimals(min_value=D("0"), max_value=D("100"), places=2),
)
def test_property_total_is_exactly_the_sum_of_rounded_parts(prices, fee, tip):
    lines = [line(f"S{i}", str(p), q) for i, (p, q) in enumerate(prices)]
    priced = pricing.price_lines(lines, limits=services.BASKET_LIMITS)
    sub = pricing.subtotal(priced)
    total = pricing.total(
        subtotal=sub,
        delivery_fee=pricing.amount(fee, field="fee"),
        tip=pricing.amount(tip, field="tip"),
    )
    expected = (
        sum((p.quantize(D("0.01"), rounding="ROUND_HALF_UP") * q for p, q in prices), D("0"))
        + fee.quantize(D("0.01"), rounding="ROUND_HALF_UP")
        + tip
    )
    assert total == expected
    assert total.as_tuple().exponent == -2
