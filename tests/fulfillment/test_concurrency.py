"""Real parallel connections on PostgreSQL: stock never oversells, never deadlocks."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fulfillment import services
from fulfillment.models import PickJob, Reservation, Stock
from fulfillment.services import InsufficientStockError, PickLineSpec, StockLine
from tests.fulfillment.factories import HubFactory, PickerFactory, StockFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
HOLD = timedelta(minutes=10)


def run_parallel(fn, count: int, workers: int = 20) -> list:
    barrier = threading.Barrier(min(count, workers))

    def call(i):
        try:
            if i < workers:
                barrier.wait(timeout=30)
            return fn(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(call, range(count)))


def test_200_buyers_for_the_last_5_units_give_5_holds_and_195_clear_refusals():
    # given 5 units left
    row = StockFactory(on_hand=5)

    def buy(i):
        try:
            services.stock_reserve(
                hub_code=row.hub.code,
                lines=[StockLine(product_id=row.product_id, quantity=1)],
                hold_for=HOLD,
                reference=f"cart-{i}",
            )
            return "held"
        except InsufficientStockError as exc:
            assert exc.code == "out_of_stock" and exc.status == 409
            return "out_of_stock"

    # when 200 customers reserve one each at the same time
    outcomes = run_parallel(buy, 200)
    # then exactly 5 succeed, the rest get a clear error, nothing goes negative
    assert outcomes.count("held") == 5
    assert outcomes.count("out_of_stock") == 195
    row.refresh_from_db()
    assert (row.on_hand, row.reserved) == (5, 5)
    assert services.stock_verify() == ()


def test_overlapping_baskets_in_shuffled_order_never_deadlock():
    # given 12 products with plenty of stock
    hub = HubFactory()
    rows = [StockFactory(hub=hub, on_hand=1000) for _ in range(12)]
    errors = []

    def basket(i):
        rnd = random.Random(i)
        chosen = rnd.sample(rows, 6)
        rnd.shuffle(chosen)
        try:
            dto = services.stock_reserve(
                hub_code=hub.code,
                lines=[
                    StockLine(product_id=r.product_id, quantity=rnd.randint(1, 3)) for r in chosen
                ],
                hold_for=HOLD,
                reference=f"basket-{i}",
            )
            if i % 3 == 0:
                services.stock_reservation_release(reservation_id=dto.id)
        except Exception as exc:  # a deadlock would surface here
            errors.append(repr(exc))

    # when 50 threads reserve overlapping baskets in shuffled order
    run_parallel(basket, 50)
    # then none failed and the ledger agrees
    assert errors == []
    assert Reservation.objects.filter(status="held").count() == 50 - len(range(0, 50, 3))
    assert services.stock_verify() == ()


def test_two_sweepers_and_a_committing_pick_lose_no_unit():
    # given many lapsed holds, and one confirmed order being picked
    hub = HubFactory()
    rows = [StockFactory(hub=hub, on_hand=100) for _ in range(4)]
    lapsed = []
    for i in range(60):
        dto = services.stock_reserve(
            hub_code=hub.code,
            lines=[StockLine(product_id=r.product_id, quantity=1) for r in rows],
            hold_for=HOLD,
            reference=f"lapsed-{i}",
        )
        lapsed.append(dto.id)
    order = services.stock_reserve(
        hub_code=hub.code,
        lines=[StockLine(product_id=r.product_id, quantity=2) for r in rows],
        hold_for=HOLD,
        reference="order-1",
    )
    services.pick_job_create(
        order_ref="order-1",
        hub_code=hub.code,
        reservation_id=order.id,
        lines=[
            PickLineSpec(product_id=r.product_id, sku=r.sku, name=r.name, quantity=2) for r in rows
        ],
        due_by=timezone.now() + timedelta(hours=1),
    )
    Reservation.objects.filter(pk__in=lapsed).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    picker = PickerFactory(hub=hub)
    job = services.pick_job_claim_next(hub_code=hub.code, picker_id=picker.pk)

    def work(i):
        if i < 2:
            return services.reservations_expire(batch=7)
        for r in rows:
            services.pick_line_confirm(
                job_id=job.id, picker_id=picker.pk, sku=r.sku, picked_quantity=2
            )
        services.pick_job_pack(job_id=job.id, picker_id=picker.pk, bags=1)
        return 0

    # when two sweepers and the picker run at once
    expired = run_parallel(work, 3, workers=3)
    # then every lapsed hold expired once, the pick took exactly its units, the ledger agrees
    assert sum(expired) == 60
    for r in rows:
        r.refresh_from_db()
        assert (r.on_hand, r.reserved) == (98, 0)
    assert PickJob.objects.get(order_ref="order-1").status == "packed"
    assert services.stock_verify() == ()


def test_two_pickers_never_claim_the_same_job():
    # given 10 pending jobs and 6 pickers at one hub
    hub = HubFactory()
    row = StockFactory(hub=hub, on_hand=100)
    for i in range(10):
        res = services.stock_reserve(
            hub_code=hub.code,
            lines=[StockLine(product_id=row.product_id, quantity=1)],
            hold_for=HOLD,
            reference=f"o-{i}",
        )
        services.pick_job_create(
            order_ref=f"o-{i}",
            hub_code=hub.code,
            reservation_id=res.id,
            lines=[PickLineSpec(product_id=row.product_id, sku=row.sku, name=row.name, quantity=1)],
            due_by=timezone.now() + timedelta(minutes=30 + i),
        )
    pickers = [PickerFactory(hub=hub) for _ in range(6)]

    def claim_all(i):
        got = []
        while True:
            job = services.pick_job_claim_next(hub_code=hub.code, picker_id=pickers[i].pk)
            if job is None:
                return got
            got.append(job.order_ref)
            services.pick_line_confirm(
                job_id=job.id, picker_id=pickers[i].pk, sku=row.sku, picked_quantity=1
            )
            services.pick_job_pack(job_id=job.id, picker_id=pickers[i].pk, bags=1)

    # when they all claim until the queue is empty
    claimed = [ref for refs in run_parallel(claim_all, 6, workers=6) for ref in refs]
    # then each job was claimed exactly once
    assert sorted(claimed) == sorted(f"o-{i}" for i in range(10))
    assert Stock.objects.get(pk=row.pk).on_hand == 90
    assert services.stock_verify() == ()
