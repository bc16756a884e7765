"""A hypothesis state machine over reserve / release / confirm / pick / adjust / expire.

Whatever the sequence, every invariant holds: no negative stock, reserved <= on_hand, the
ledger equals on_hand and reserved, reserved equals the units live holds still hold, and
the database agrees with a simple model of what should have happened.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from fulfillment import services
from fulfillment.models import Reservation, Stock
from fulfillment.services import InsufficientStockError, PickLineSpec, StockLine
from tests.fulfillment.factories import HubFactory, PickerFactory, StockFactory

PRODUCTS = 3


class StockMachine(RuleBasedStateMachine):
    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.hub = HubFactory()
        self.picker = PickerFactory(hub=self.hub)
        self.rows = [StockFactory(hub=self.hub, on_hand=3) for _ in range(PRODUCTS)]
        self.on_hand = [3] * PRODUCTS
        self.reserved = [0] * PRODUCTS
        self.orders = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @rule(
        target=holds,
        wanted=st.dictionaries(st.integers(0, PRODUCTS - 1), st.integers(1, 4), min_size=1),
    )
    def reserve(self, wanted):
        fits = all(self.on_hand[i] - self.reserved[i] >= q for i, q in wanted.items())
        lines = [
            StockLine(product_id=self.rows[i].product_id, quantity=q) for i, q in wanted.items()
        ]
        try:
            dto = services.stock_reserve(
                hub_code=self.hub.code, lines=lines, hold_for=timedelta(minutes=5), reference="p"
            )
        except InsufficientStockError:
            assert not fits
            return None
        assert fits
        for i, q in wanted.items():
            self.reserved[i] += q
        return (dto.id, wanted)

    @rule(hold=consumes(holds))
    def release(self, hold):
        if hold is None:
            return
        services.stock_reservation_release(reservation_id=hold[0])
        services.stock_reservation_release(reservation_id=hold[0])  # idempotent
        for i, q in hold[1].items():
            self.reserved[i] -= q

    @rule(hold=consumes(holds))
    def expire(self, hold):
        if hold is None:
            return
        Reservation.objects.filter(pk=hold[0], status="held").update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        expired = services.reservations_expire()
        if Reservation.objects.get(pk=hold[0]).status == "expired":
            assert expired == 1
            for i, q in hold[1].items():
                self.reserved[i] -= q
        else:  # confirmed holds never expire
            assert expired == 0
            services.stock_reservation_release(reservation_id=hold[0])
            for i, q in hold[1].items():
                self.reserved[i] -= q

    @rule(hold=holds)
    def confirm(self, hold):
        if hold is not None:
            services.stock_reservation_confirm(reservation_id=hold[0])

    @rule(hold=consumes(holds), data=st.data())
    def pick(self, hold, data):
        if hold is None:
            return
        self.orders += 1
        ref = f"order-{self.orders}"
        services.pick_job_create(
            order_ref=ref,
            hub_code=self.hub.code,
            reservation_id=hold[0],
            lines=[
                PickLineSpec(
                    product_id=self.rows[i].product_id, sku=self.rows[i].sku, name="x", quantity=q
                )
                for i, q in hold[1].items()
            ],
            due_by=timezone.now(),
        )
        job = services.pick_job_claim_next(hub_code=self.hub.code, picker_id=self.picker.pk)
        assert job is not None and job.order_ref == ref
        for i, q in hold[1].items():
            picked = data.draw(st.integers(0, q), label=f"picked {i}")
            services.pick_line_confirm(
                job_id=job.id,
                picker_id=self.picker.pk,
                sku=self.rows[i].sku,
                picked_quantity=picked,
            )
            self.on_hand[i] -= picked
            self.reserved[i] -= q
        services.pick_job_pack(job_id=job.id, picker_id=self.picker.pk, bags=1)
        if data.draw(st.booleans(), label="delivery failed"):
            services.goods_return(order_ref=ref, reason="nobody home")
            self.on_hand = [
                self.on_hand[k] + (job_line_picked(ref, self.rows[k].sku)) for k in range(PRODUCTS)
            ]

    @rule(index=st.integers(0, PRODUCTS - 1), delta=st.integers(-4, 6).filter(bool))
    def adjust(self, index, delta):
        fits = self.on_hand[index] + delta >= self.reserved[index]
        try:
            services.stock_adjust(
                hub_code=self.hub.code,
                product_id=self.rows[index].product_id,
                delta=delta,
                reason="property test",
            )
        except InsufficientStockError:
            assert not fits
            return
        assert fits
        self.on_hand[index] += delta

    @invariant()
    def stock_matches_the_model_and_the_ledger(self):
        for i, row in enumerate(self.rows):
            on_hand, reserved = Stock.objects.values_list("on_hand", "reserved").get(pk=row.pk)
            assert 0 <= reserved <= on_hand
            assert (on_hand, reserved) == (self.on_hand[i], self.reserved[i])
        assert services.stock_verify(hub_code=self.hub.code) == ()


def job_line_picked(order_ref: str, sku: str) -> int:
    job = services.pick_job_get(order_ref=order_ref)
    return next((line.picked_quantity or 0 for line in job.lines if line.sku == sku), 0)


@pytest.mark.django_db
@pytest.mark.slow
def test_stock_invariants_hold_for_any_sequence_of_operations():
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            database=None,
        ),
    )
