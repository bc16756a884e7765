"""Pick jobs: short picks, substitutes, packing, cancelling and returns keep stock exact."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment import services
from fulfillment.models import PickJob, Reservation, Stock
from fulfillment.services import (
    InsufficientStockError,
    PickJobStateError,
    PickLineSpec,
    ReservationExpiredError,
    StockLine,
    StockValidationError,
)
from prime_now.kernel.models import OutboxEvent
from tests.fulfillment.factories import HubFactory, PickerFactory, StockFactory
from tests.fulfillment.helpers import place_order

pytestmark = pytest.mark.django_db


def levels(row: Stock) -> tuple[int, int]:
    row.refresh_from_db()
    return row.on_hand, row.reserved


@pytest.fixture
def hub():
    return HubFactory()


@pytest.fixture
def picker(hub):
    return PickerFactory(hub=hub)


def claim(hub, picker):
    return services.pick_job_claim_next(hub_code=hub.code, picker_id=picker.pk)


def test_creating_a_pick_job_confirms_the_hold_and_is_idempotent(hub):
    row = StockFactory(hub=hub, on_hand=5)
    job_id, reservation_id = place_order(hub, [row], order_ref="PN-1")
    assert Reservation.objects.get(pk=reservation_id).status == "confirmed"
    again = services.pick_job_create(
        order_ref="PN-1",
        hub_code=hub.code,
        reservation_id=reservation_id,
        lines=[PickLineSpec(product_id=row.product_id, sku=row.sku, name=row.name, quantity=2)],
        due_by=timezone.now(),
    )
    assert again == job_id and PickJob.objects.count() == 1
    assert services.hub_backlog(hub_code=hub.code) == 1


def test_a_lapsed_hold_cannot_become_a_pick_job(hub):
    row = StockFactory(hub=hub, on_hand=5)
    res = services.stock_reserve(
        hub_code=hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=1)],
        hold_for=timedelta(minutes=1),
        reference="late",
    )
    Reservation.objects.filter(pk=res.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ReservationExpiredError):
        services.pick_job_create(
            order_ref="PN-late",
            hub_code=hub.code,
            reservation_id=res.id,
            lines=[PickLineSpec(product_id=row.product_id, sku=row.sku, name="x", quantity=1)],
            due_by=timezone.now(),
        )
    assert levels(row) == (5, 0)


def test_full_pick_takes_units_off_the_shelf_and_packing_publishes_order_packed(hub, picker):
    row = StockFactory(hub=hub, on_hand=5)
    job_id, _ = place_order(hub, [row], order_ref="PN-2")
    job = claim(hub, picker)
    assert OutboxEvent.objects.filter(name="fulfillment.PickStarted").count() == 1
    services.pick_line_confirm(job_id=job.id, picker_id=picker.pk, sku=row.sku, picked_quantity=2)
    assert levels(row) == (3, 0)
    packed = services.pick_job_pack(job_id=job.id, picker_id=picker.pk, bags=1)
    assert packed.status == "packed"
    event = OutboxEvent.objects.get(name="fulfillment.OrderPacked")
    assert event.payload == {
        "order_ref": "PN-2",
        "hub_code": hub.code,
        "bags": 1,
        "lines": [
            {
                "sku": row.sku,
                "ordered_quantity": 2,
                "picked_quantity": 2,
                "substitute_sku": "",
                "substitute_quantity": 0,
            }
        ],
    }
    assert services.hub_backlog(hub_code=hub.code) == 0
    assert services.stock_verify() == ()


def test_short_pick_with_allowed_substitute(hub, picker):
    wanted = StockFactory(hub=hub, on_hand=2)
    substitute = StockFactory(hub=hub, on_hand=4)
    place_order(hub, [wanted], order_ref="PN-3", substitutes={wanted.sku: substitute.sku})
    job = claim(hub, picker)
    # when only one is on the shelf and one substitute is taken
    done = services.pick_line_confirm(
        job_id=job.id, picker_id=picker.pk, sku=wanted.sku, picked_quantity=1, substitute_quantity=1
    )
    # then the line is substituted, the rest of the hold released, the substitute taken
    assert done.lines[0].status == "substituted"
    assert levels(wanted) == (1, 0)
    assert levels(substitute) == (3, 0)
    assert services.stock_verify() == ()


def test_short_pick_without_substitute_is_missing_and_substitutes_are_refused(hub, picker):
    row = StockFactory(hub=hub, on_hand=2)
    place_order(hub, [row], order_ref="PN-4")
    job = claim(hub, picker)
    with pytest.raises(StockValidationError):
        services.pick_line_confirm(
            job_id=job.id,
            picker_id=picker.pk,
            sku=row.sku,
            picked_quantity=0,
            substitute_quantity=1,
        )
    done = services.pick_line_confirm(
        job_id=job.id, picker_id=picker.pk, sku=row.sku, picked_quantity=0
    )
    assert done.lines[0].status == "missing"
    assert levels(row) == (2, 0)
    with pytest.raises(PickJobStateError):
        services.pick_line_confirm(
            job_id=job.id, picker_id=picker.pk, sku=row.sku, picked_quantity=0
        )


def test_a_substitute_never_takes_another_orders_hold(hub, picker):
    wanted = StockFactory(hub=hub, on_hand=2)
    substitute = StockFactory(hub=hub, on_hand=1)
    place_order(hub, [wanted], order_ref="PN-5", substitutes={wanted.sku: substitute.sku})
    place_order(hub, [substitute], order_ref="PN-6", quantity=1)
    job = claim(hub, picker)
    with pytest.raises(InsufficientStockError):
        services.pick_line_confirm(
            job_id=job.id,
            picker_id=picker.pk,
            sku=wanted.sku,
            picked_quantity=0,
            substitute_quantity=1,
        )
    assert levels(substitute) == (1, 1)
    assert levels(wanted) == (2, 2)


def test_packing_needs_every_line_confirmed(hub, picker):
    rows = [StockFactory(hub=hub), StockFactory(hub=hub)]
    place_order(hub, rows, order_ref="PN-7")
    job = claim(hub, picker)
    services.pick_line_confirm(
        job_id=job.id, picker_id=picker.pk, sku=rows[0].sku, picked_quantity=2
    )
    with pytest.raises(PickJobStateError) as raised:
        services.pick_job_pack(job_id=job.id, picker_id=picker.pk, bags=1)
    assert raised.value.fields == {"pending_skus": [rows[1].sku]}


def test_cancelling_mid_pick_returns_picked_goods_and_releases_the_rest(hub, picker):
    rows = [StockFactory(hub=hub, on_hand=5), StockFactory(hub=hub, on_hand=5)]
    place_order(hub, rows, order_ref="PN-8")
    job = claim(hub, picker)
    services.pick_line_confirm(
        job_id=job.id, picker_id=picker.pk, sku=rows[0].sku, picked_quantity=2
    )
    services.pick_job_cancel(order_ref="PN-8")
    services.pick_job_cancel(order_ref="PN-8")
    assert [levels(r) for r in rows] == [(5, 0), (5, 0)]
    assert PickJob.objects.get(order_ref="PN-8").status == "cancelled"
    assert services.stock_verify() == ()


def test_failed_delivery_puts_the_goods_back_on_the_shelf(hub, picker):
    row = StockFactory(hub=hub, on_hand=5)
    place_order(hub, [row], order_ref="PN-9")
    job = claim(hub, picker)
    services.pick_line_confirm(job_id=job.id, picker_id=picker.pk, sku=row.sku, picked_quantity=2)
    services.pick_job_pack(job_id=job.id, picker_id=picker.pk, bags=1)
    services.goods_return(order_ref="PN-9", reason="nobody home")
    services.goods_return(order_ref="PN-9", reason="nobody home")
    assert levels(row) == (5, 0)
    assert PickJob.objects.get(order_ref="PN-9").status == "returned"
    assert services.stock_verify() == ()


def test_claim_takes_the_earliest_due_job_first(hub, picker):
    row = StockFactory(hub=hub, on_hand=10)
    place_order(hub, [row], order_ref="later", quantity=1, due_in=50)
    place_order(hub, [row], order_ref="sooner", quantity=1, due_in=20)
    assert claim(hub, picker).order_ref == "sooner"
    # and a picker with a job in progress gets it back instead of a second one
    assert claim(hub, picker).order_ref == "sooner"


def test_a_line_the_hold_does_not_cover_can_still_be_marked_missing(hub, picker):
    row = StockFactory(hub=hub, on_hand=5)
    res = services.stock_reserve(
        hub_code=hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=1)],
        hold_for=timedelta(minutes=5),
        reference="PN-10",
    )
    services.pick_job_create(
        order_ref="PN-10",
        hub_code=hub.code,
        reservation_id=res.id,
        lines=[
            PickLineSpec(product_id=row.product_id, sku=row.sku, name="x", quantity=1),
            PickLineSpec(product_id=424242, sku="NOT-STOCKED", name="y", quantity=1),
        ],
        due_by=timezone.now(),
    )
    job = claim(hub, picker)
    done = services.pick_line_confirm(
        job_id=job.id, picker_id=picker.pk, sku="NOT-STOCKED", picked_quantity=0
    )
    assert {line.sku: line.status for line in done.lines}["NOT-STOCKED"] == "missing"
    assert levels(row) == (5, 1)
