"""Availability: one query per page, cached briefly, never trusted for a reservation."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from fulfillment import services
from fulfillment.models import Stock, StockMovement
from fulfillment.services import (
    HubNotFoundError,
    InsufficientStockError,
    StockLine,
    StockValidationError,
)
from fulfillment.tasks import expire_reservations
from prime_now.kernel.models import OutboxEvent
from tests.fulfillment.factories import HubFactory, StockFactory

pytestmark = pytest.mark.django_db
HOLD = timedelta(minutes=5)


def test_a_whole_page_is_one_query_then_served_from_the_cache():
    hub = HubFactory()
    rows = [StockFactory(hub=hub, on_hand=n) for n in (0, 1, 5)]
    ids = [r.product_id for r in rows] + [123456789]
    with CaptureQueriesContext(connection) as first:
        levels = services.stock_available(hub_code=hub.code, product_ids=ids)
    assert levels == {
        rows[0].product_id: 0,
        rows[1].product_id: 1,
        rows[2].product_id: 5,
        123456789: 0,
    }
    assert len(first.captured_queries) == 1
    with CaptureQueriesContext(connection) as second:
        services.stock_available(hub_code=hub.code, product_ids=ids)
    assert len(second.captured_queries) == 0


def test_a_stale_cache_never_lets_a_reservation_oversell():
    row = StockFactory(on_hand=2)
    assert services.stock_available(hub_code=row.hub.code, product_ids=[row.product_id]) == {
        row.product_id: 2
    }
    Stock.objects.filter(pk=row.pk).update(reserved=2)  # someone else holds both (cache is stale)
    with pytest.raises(InsufficientStockError):
        services.stock_reserve(
            hub_code=row.hub.code,
            lines=[StockLine(product_id=row.product_id, quantity=1)],
            hold_for=HOLD,
            reference="x",
        )


def test_in_stock_ids_exclude_sold_out_and_fully_reserved_products():
    hub = HubFactory()
    plenty, empty, held = (StockFactory(hub=hub, on_hand=n) for n in (3, 0, 1))
    services.stock_reserve(
        hub_code=hub.code,
        lines=[StockLine(product_id=held.product_id, quantity=1)],
        hold_for=HOLD,
        reference="x",
    )
    assert services.product_ids_in_stock(hub_code=hub.code) == frozenset({plenty.product_id})


def test_selling_out_announces_stock_changed():
    row = StockFactory(on_hand=1)
    services.stock_reserve(
        hub_code=row.hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=1)],
        hold_for=HOLD,
        reference="x",
    )
    event = OutboxEvent.objects.get(name="fulfillment.StockChanged")
    assert event.payload == {"hub_code": row.hub.code, "product_ids": [row.product_id]}


def test_unknown_hub_is_a_clear_error():
    with pytest.raises(HubNotFoundError):
        services.stock_available(hub_code="nowhere", product_ids=[1])


@pytest.mark.parametrize(
    "lines, hold_for, reference",
    [
        ([], HOLD, "x"),
        ([StockLine(product_id=1, quantity=0)], HOLD, "x"),
        ([StockLine(product_id=1, quantity=1)], timedelta(0), "x"),
        ([StockLine(product_id=1, quantity=1)], HOLD, ""),
    ],
)
def test_bad_reservation_requests_are_refused_before_touching_stock(lines, hold_for, reference):
    row = StockFactory(product_id=1, on_hand=5)
    with pytest.raises(StockValidationError):
        services.stock_reserve(
            hub_code=row.hub.code, lines=lines, hold_for=hold_for, reference=reference
        )
    row.refresh_from_db()
    assert row.reserved == 0


def test_the_expiry_task_runs_the_sweeper():
    assert expire_reservations.delay().get() == 0


def test_the_database_refuses_to_rewrite_the_ledger():
    row = StockFactory(on_hand=3)
    with pytest.raises(DatabaseError), transaction.atomic():
        StockMovement.objects.filter(stock=row).update(on_hand_delta=300)
    with pytest.raises(DatabaseError), transaction.atomic():
        StockMovement.objects.filter(stock=row).delete()


def test_the_database_refuses_reserved_above_on_hand():
    row = StockFactory(on_hand=3)
    with pytest.raises(DatabaseError), transaction.atomic():
        Stock.objects.filter(pk=row.pk).update(reserved=4)
