"""Every app counts what it does: a checkout moves the façade's, ordering's, fulfillment's
and insights' counters."""

import pytest
from prometheus_client import REGISTRY

from ordering import services as ordering
from prime_now.kernel.errors import ApplicationError
from tests.delivery.facade.conftest import DECLINED, make_world, place
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


SERIES = {
    "placed": ("delivery_checkouts_total", {"outcome": "placed"}),
    "declined": ("delivery_checkouts_total", {"outcome": "payment_declined"}),
    "orders": ("ordering_orders_placed_total", {}),
    "picking": ("ordering_transitions_total", {"status": "picking"}),
    "held": ("fulfillment_reservations_total", {"outcome": "held"}),
    "drops": ("order_drops_total", {"reason": "payment_declined", "stage": "checkout"}),
}


def test_a_placed_and_a_declined_checkout_are_counted_by_every_app():
    world, shopper = make_world(products=1), UserFactory(roles=["customer"])
    before = {key: _value(name, **labels) for key, (name, labels) in SERIES.items()}

    number = place(world, shopper, key="a").order_number
    with pytest.raises(ApplicationError):
        place(world, shopper, key="b", payment_token=DECLINED)
    ordering.order_mark_picking(number=number)

    after = {key: _value(name, **labels) for key, (name, labels) in SERIES.items()}
    assert {key: after[key] - before[key] for key in SERIES} == {
        "placed": 1, "declined": 1, "orders": 1, "picking": 1, "drops": 1,
        "held": 2,  # the declined checkout held its stock too (the payment comes after)
    }  # fmt: skip
    assert _value("delivery_checkout_seconds_count") >= 2
