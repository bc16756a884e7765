"""The fulfillment door: typed events that survive the outbox, statuses as enums, and a
package whose modules import one another without a cycle."""

from datetime import timedelta

import grimp
import pytest

from fulfillment import services
from fulfillment.events import OrderPacked, PackedLine
from fulfillment.services import PickJobStatus, PickLineStatus, ReservationStatus, StockLine
from prime_now.kernel import bus
from tests.fulfillment.factories import HubFactory, PickerFactory, StockFactory
from tests.fulfillment.helpers import place_order


def test_an_order_packed_event_comes_back_from_the_outbox_as_it_was_published():
    # given a packed order with a short pick made up by a substitute
    event = OrderPacked(
        order_ref="PN-1",
        hub_code="sea-test",
        bags=2,
        lines=(
            PackedLine(sku="A", ordered_quantity=2, picked_quantity=2),
            PackedLine(
                sku="B",
                ordered_quantity=3,
                picked_quantity=1,
                substitute_sku="B2",
                substitute_quantity=2,
            ),
        ),
    )
    # when it is encoded for the outbox and decoded by a subscriber
    decoded = bus.decode(event.name, bus.encode(event))
    # then it is the same event, its lines typed
    assert decoded == event
    assert isinstance(decoded, OrderPacked)
    assert all(isinstance(line, PackedLine) for line in decoded.lines)


@pytest.mark.django_db
def test_a_reservation_crosses_the_door_with_an_enum_status():
    row = StockFactory(on_hand=5)
    dto = services.stock_reserve(
        hub_code=row.hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=1)],
        hold_for=timedelta(minutes=5),
        reference="cart",
    )
    services.stock_reservation_release(reservation_id=dto.id)

    got = services.stock_reservation_get(reservation_id=dto.id)

    assert dto.status is ReservationStatus.HELD
    assert got.status is ReservationStatus.RELEASED


@pytest.mark.django_db
def test_a_pick_job_and_its_lines_cross_the_door_with_enum_statuses():
    hub = HubFactory()
    row = StockFactory(hub=hub, on_hand=5)
    place_order(hub, [row], order_ref="PN-E", quantity=1)
    picker = PickerFactory(hub=hub)

    job = services.pick_job_claim_next(hub_code=hub.code, picker_id=picker.pk)

    assert job is not None
    assert job.status is PickJobStatus.PICKING
    assert [line.status for line in job.lines] == [PickLineStatus.PENDING]
    assert all(type(line.status) is PickLineStatus for line in job.lines)


def test_no_module_of_fulfillment_imports_itself_back():
    graph = grimp.build_graph("fulfillment")
    modules = {m for m in graph.modules if m.startswith("fulfillment")}

    cycles = [m for m in sorted(modules) if _reaches_itself(graph, m, modules)]

    assert cycles == []


def _reaches_itself(graph: grimp.ImportGraph, start: str, modules: set[str]) -> bool:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for imported in graph.find_modules_directly_imported_by(todo.pop()) & modules:
            if imported == start:
                return True
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
    return False
