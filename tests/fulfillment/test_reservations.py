"""Reservations: all lines or none, released, confirmed, expired — the ledger always agrees."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment import services
from fulfillment.models import Reservation, Stock
from fulfillment.services import (
    HubInactiveError,
    HubNotFoundError,
    InsufficientStockError,
    StockLine,
)
from tests.fulfillment.factories import HubFactory, StockFactory

pytestmark = pytest.mark.django_db
HOLD = timedelta(minutes=10)


def stock_of(row: Stock) -> tuple[int, int]:
    row.refresh_from_db()
    return row.on_hand, row.reserved


def test_reserving_holds_units_and_lowers_availability():
    # given a product with 10 on hand
    row = StockFactory(on_hand=10)
    # when 3 are reserved
    dto = services.stock_reserve(
        hub_code=row.hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=3)],
        hold_for=HOLD,
        reference="cart-1",
    )
    # then 3 are held, 7 available, and the hold expires
    assert stock_of(row) == (10, 3)
    assert dto.status == "held" and dto.expires_at > timezone.now()
    assert services.stock_available(hub_code=row.hub.code, product_ids=[row.product_id]) == {
        row.product_id: 7
    }
    assert services.stock_verify() == ()


def test_a_basket_with_one_short_line_reserves_nothing():
    hub = HubFactory()
    plenty, scarce = StockFactory(hub=hub, on_hand=10), StockFactory(hub=hub, on_hand=1)
    with pytest.raises(InsufficientStockError) as raised:
        services.stock_reserve(
            hub_code=hub.code,
            lines=[
                StockLine(product_id=plenty.product_id, quantity=2),
                StockLine(product_id=scarce.product_id, quantity=2),
            ],
            hold_for=HOLD,
            reference="cart-2",
        )
    assert raised.value.shortages == (
        services.Shortage(product_id=scarce.product_id, requested=2, available=1),
    )
    assert raised.value.code == "out_of_stock"
    assert stock_of(plenty) == (10, 0) and stock_of(scarce) == (1, 0)
    assert not Reservation.objects.exists()


def test_release_gives_units_back_and_is_idempotent():
    row = StockFactory(on_hand=5)
    dto = services.stock_reserve(
        hub_code=row.hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=5)],
        hold_for=HOLD,
        reference="cart-3",
    )
    services.stock_reservation_release(reservation_id=dto.id, reason="cart emptied")
    services.stock_reservation_release(reservation_id=dto.id, reason="again")
    assert stock_of(row) == (5, 0)
    assert services.stock_verify() == ()


def test_sweeper_expires_only_lapsed_holds():
    row = StockFactory(on_hand=5)
    lines = [StockLine(product_id=row.product_id, quantity=1)]
    lapsed = services.stock_reserve(
        hub_code=row.hub.code, lines=lines, hold_for=HOLD, reference="a"
    )
    services.stock_reserve(hub_code=row.hub.code, lines=lines, hold_for=HOLD, reference="b")
    Reservation.objects.filter(pk=lapsed.id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.reservations_expire() == 1
    assert stock_of(row) == (5, 1)
    assert Reservation.objects.get(pk=lapsed.id).status == "expired"
    assert services.stock_verify() == ()


def test_one_sweep_gives_back_every_lapsed_hold_on_the_same_row():
    # given three lapsed holds on one product
    row = StockFactory(on_hand=5)
    lines = [StockLine(product_id=row.product_id, quantity=1)]
    holds = [
        services.stock_reserve(hub_code=row.hub.code, lines=lines, hold_for=HOLD, reference=ref)
        for ref in ("a", "b", "c")
    ]
    Reservation.objects.filter(pk__in=[h.id for h in holds]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    # when one sweep expires them all
    expired = services.reservations_expire()
    # then each unit is back once and the ledger agrees
    assert expired == 3
    assert stock_of(row) == (5, 0)
    assert services.stock_verify() == ()


def test_a_closed_hub_takes_no_reservation():
    row = StockFactory(on_hand=5, hub=HubFactory(active=False))

    with pytest.raises(HubInactiveError):
        services.stock_reserve(
            hub_code=row.hub.code,
            lines=[StockLine(product_id=row.product_id, quantity=1)],
            hold_for=HOLD,
            reference="cart",
        )

    assert stock_of(row) == (5, 0)


def test_an_unknown_hub_takes_no_reservation():
    with pytest.raises(HubNotFoundError):
        services.stock_reserve(
            hub_code="nowhere",
            lines=[StockLine(product_id=1, quantity=1)],
            hold_for=HOLD,
            reference="cart",
        )


def test_a_product_the_hub_does_not_stock_is_short_by_all_of_it():
    row = StockFactory(on_hand=5)

    with pytest.raises(InsufficientStockError) as raised:
        services.stock_reserve(
            hub_code=row.hub.code,
            lines=[
                StockLine(product_id=row.product_id, quantity=1),
                StockLine(product_id=987654321, quantity=2),
            ],
            hold_for=HOLD,
            reference="cart",
        )

    assert raised.value.shortages == (
        services.Shortage(product_id=987654321, requested=2, available=0),
    )
    assert stock_of(row) == (5, 0)
