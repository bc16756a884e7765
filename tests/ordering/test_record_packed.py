"""order_record_packed: the hub's pack, recorded under one lock (delivery's OrderPacked)."""

from decimal import Decimal

import pytest

from ordering import services
from tests.ordering.factories import OrderFactory, OrderLineInputFactory

pytestmark = pytest.mark.django_db
D = Decimal


def placed_order():
    return OrderFactory(
        lines=[
            OrderLineInputFactory(sku="A", unit_price=D("2.00"), quantity=2),
            OrderLineInputFactory(sku="B", unit_price=D("3.00"), quantity=1),
        ]
    )


PICKS = [
    services.PickedLineInput(sku="A", picked_quantity=1),
    services.PickedLineInput(sku="B", picked_quantity=1),
]


def test_a_placed_order_goes_through_picking_to_packed_with_its_picks():
    # Given a placed order nobody has started picking
    order = placed_order()

    # When the hub reports it packed with one A missing
    packed = services.order_record_packed(number=order.number, picked=PICKS)

    # Then it is packed, the short pick is recorded and the timeline shows every step
    assert packed.status == "packed"
    assert packed.lines[0].missing_quantity == 1
    assert packed.total == order.total - D("2.00")
    assert [entry.status for entry in packed.timeline] == ["placed", "picking", "picking", "packed"]


def test_recording_the_same_pack_again_changes_nothing():
    # Given an order already recorded as packed
    order = placed_order()
    first = services.order_record_packed(number=order.number, picked=PICKS)

    # When the same event is handled again
    again = services.order_record_packed(number=order.number, picked=PICKS)

    # Then the order is as it was
    assert again == first


def test_a_cancelled_order_cannot_be_recorded_as_packed():
    # Given a cancelled order
    order = placed_order()
    services.order_cancel(number=order.number, reason="Changed my mind.")

    # When the hub reports it packed, then it is refused and stays cancelled
    with pytest.raises(services.IllegalTransitionError):
        services.order_record_packed(number=order.number, picked=PICKS)
    assert services.order_get(number=order.number).status == "cancelled"


def test_it_costs_fewer_queries_than_the_three_separate_calls(django_assert_max_num_queries):
    # Given two identical placed orders
    one, other = placed_order(), placed_order()
    with django_assert_max_num_queries(100) as separate:
        services.order_mark_picking(number=one.number)
        services.order_adjust_after_pick(number=one.number, picked=PICKS)
        services.order_mark_packed(number=one.number)

    # When the second is recorded in one call, then it takes fewer queries
    with django_assert_max_num_queries(len(separate.captured_queries) - 8):
        services.order_record_packed(number=other.number, picked=PICKS)
