"""The order drop rate: every attempt counted once, each drop with one reason and stage."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment import services as fulfillment
from insights import services as insights
from insights.models import Attempt
from insights.recording import mark_lost
from ordering import services as ordering
from prime_now.kernel.errors import ApplicationError
from tests.delivery.facade.conftest import DECLINED, make_world, place
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    return make_world(products=2)


@pytest.fixture
def shopper():
    return UserFactory(roles=["customer"])


def _since():
    return timezone.now() - timedelta(hours=1)


def _attempt(reference: str) -> Attempt:
    return Attempt.objects.get(reference=reference)


def _walk(number: str, *statuses) -> None:
    moves = {
        "picking": ordering.order_mark_picking,
        "packed": ordering.order_mark_packed,
        "out": ordering.order_mark_out_for_delivery,
        "delivered": ordering.order_mark_delivered,
    }
    for status in statuses:
        moves[status](number=number)


def test_a_refused_checkout_is_an_attempt_dropped_at_checkout_for_its_code(world, shopper):
    with pytest.raises(ApplicationError):
        place(world, shopper, payment_token=DECLINED)

    rate = insights.drop_rate(since=_since())
    assert (rate.attempts, rate.dropped, rate.reasons) == (1, 1, {"payment_declined": 1})
    attempt = Attempt.objects.get()
    assert (attempt.drop_stage, attempt.hub_code) == ("checkout", world.hub.code)


def test_an_unserved_address_is_dropped_with_no_hub(world, shopper):
    with pytest.raises(ApplicationError):
        place(world, shopper, postcode="10001")

    attempt = Attempt.objects.get()
    assert (attempt.drop_reason, attempt.hub_code) == ("address_not_served", "")


def test_an_order_delivered_within_its_window_is_kept(world, shopper):
    number = place(world, shopper).order_number

    _walk(number, "picking", "packed", "out", "delivered")

    attempt = _attempt(number)
    assert (attempt.outcome, attempt.stage, attempt.drop_reason) == ("delivered", "delivered", "")
    assert insights.drop_rate(since=_since()).rate == 0.0


def test_an_order_delivered_after_its_window_ends_is_dropped_late(world, shopper):
    number = place(world, shopper).order_number
    Attempt.objects.filter(reference=number).update(
        window_end=timezone.now() - timedelta(minutes=5)
    )

    _walk(number, "picking", "packed", "out", "delivered")

    attempt = _attempt(number)
    assert (attempt.outcome, attempt.drop_reason, attempt.drop_stage) == (
        "dropped",
        "late",
        "delivered",
    )


def test_a_customer_cancellation_is_dropped_at_the_stage_reached(world, shopper):
    number = place(world, shopper).order_number
    _walk(number, "picking")

    ordering.order_cancel(number=number, reason="changed my mind", customer_id=shopper.pk)

    attempt = _attempt(number)
    assert (attempt.drop_reason, attempt.drop_stage) == ("cancelled_by_customer", "picking")


def test_an_operator_cancellation_names_the_operator(world, shopper):
    number = place(world, shopper).order_number

    ordering.order_cancel(
        number=number, reason="hub flooded", actor_id=UserFactory(is_staff=True).pk
    )

    assert _attempt(number).drop_reason == "cancelled_by_operator"


def test_a_failed_delivery_is_dropped_out_for_delivery(world, shopper):
    number = place(world, shopper).order_number
    _walk(number, "picking", "packed", "out")

    ordering.order_mark_delivery_failed(number=number, reason="nobody home")

    attempt = _attempt(number)
    assert (attempt.drop_reason, attempt.drop_stage) == ("delivery_failed", "out_for_delivery")


def test_an_order_with_no_progress_long_past_its_window_is_lost_until_it_ends(world, shopper):
    number = place(world, shopper).order_number
    past = timezone.now() - insights.LOST_AFTER - timedelta(minutes=1)
    Attempt.objects.filter(reference=number).update(window_end=past)

    assert mark_lost() == 1
    assert (_attempt(number).drop_reason, _attempt(number).drop_stage) == ("lost", "placed")

    # When it is delivered after all, it counts as late instead
    _walk(number, "picking", "packed", "out", "delivered")
    assert _attempt(number).drop_reason == "late"


def test_a_short_pick_drops_the_order_at_picking(world, shopper):
    number = place(world, shopper).order_number
    job = fulfillment.pick_job_get(order_ref=number)
    picker = UserFactory(roles=["picker"])
    fulfillment.hub_staff_add(hub_code=world.hub.code, user_id=picker.pk)

    fulfillment.pick_job_claim_next(hub_code=world.hub.code, picker_id=picker.pk)
    first, *rest = job.lines
    fulfillment.pick_line_confirm(
        job_id=job.id, picker_id=picker.pk, sku=first.sku, picked_quantity=0
    )
    for line in rest:
        fulfillment.pick_line_confirm(
            job_id=job.id, picker_id=picker.pk, sku=line.sku, picked_quantity=line.quantity
        )
    fulfillment.pick_job_pack(job_id=job.id, picker_id=picker.pk, bags=1)

    attempt = _attempt(number)
    assert (attempt.drop_reason, attempt.drop_stage) == ("short_picked", "picking")


def test_the_funnel_counts_each_hub_and_hour(world, shopper):
    kept = place(world, shopper, key="a").order_number
    place(world, shopper, key="b")
    with pytest.raises(ApplicationError):
        place(world, shopper, key="c", payment_token=DECLINED)
    _walk(kept, "picking", "packed", "out", "delivered")

    (row,) = insights.funnel(since=_since())

    assert (
        row.hub_code,
        row.attempts,
        row.placed,
        row.packed,
        row.delivered,
        row.on_time,
        row.dropped,
    ) == (
        world.hub.code,
        3,
        2,
        1,
        1,
        1,
        1,
    )
