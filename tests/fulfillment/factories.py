"""Factories for the fulfillment app (other apps' tests may use them too).

HubFactory() is open around the clock, serves a 5 km radius and postcode 98101.
StockFactory(on_hand=10) writes the opening balance through the ledger (a "received" movement),
so verify_stock holds in every test. PickerFactory(hub=hub) is a user with the picker role
linked to the hub.
"""

import datetime as dt
import itertools

import factory
from django.db import transaction

from fulfillment.models import Hub, HubStaff, MovementKind, OpeningHours, Stock, StockMovement
from tests.kernel.factories import UserFactory

_product_ids = itertools.count(900_001)


class HubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hub
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"hub-{n}")
    name = factory.LazyAttribute(lambda h: f"Hub {h.code}")
    address = factory.Sequence(lambda n: f"{100 + n} Pine St, Seattle, WA")
    postcode = "98101"
    lat = 47.6101
    lon = -122.3421
    timezone = "America/Los_Angeles"
    radius_km = 5.0
    postcodes = factory.LazyFunction(lambda: ["98101"])
    picking_capacity_per_hour = 30
    active = True

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        """hours=None: open 24/7; hours={weekday: (opens, closes)}; hours={} closed."""
        if not create:
            return
        if extracted is None:
            extracted = {day: (dt.time(0), dt.time(0)) for day in range(7)}
        for weekday, (opens, closes) in extracted.items():
            OpeningHours.objects.update_or_create(
                hub=self, weekday=weekday, defaults={"opens": opens, "closes": closes}
            )


class StockFactory(factory.django.DjangoModelFactory):
    """A stock row whose opening on_hand is received through the ledger."""

    class Meta:
        model = Stock
        skip_postgeneration_save = True

    hub = factory.SubFactory(HubFactory)
    product_id = factory.LazyFunction(lambda: next(_product_ids))
    sku = factory.LazyAttribute(lambda s: f"STK-{s.product_id}")
    name = factory.LazyAttribute(lambda s: f"Product {s.product_id}")
    aisle = factory.Sequence(lambda n: f"A{n % 20:02d}")
    bin = factory.Sequence(lambda n: f"B{n % 40:02d}")
    low_stock_threshold = 2

    @classmethod
    def _create(cls, model_class, *args, on_hand: int = 10, **kwargs):
        with transaction.atomic():
            row = model_class.objects.create(*args, on_hand=on_hand, reserved=0, **kwargs)
            if on_hand:
                StockMovement.objects.create(
                    stock=row,
                    kind=MovementKind.RECEIVED,
                    on_hand_delta=on_hand,
                    reason="opening balance (test)",
                )
        return row


class PickerFactory(UserFactory):
    """A user with the picker role who works at `hub` (a new hub when not given)."""

    username = factory.Sequence(lambda n: f"picker{n}")

    @factory.post_generation
    def hub(self, create, extracted, **kwargs):
        from django.contrib.auth.models import Group

        group, _ = Group.objects.get_or_create(name="picker")
        self.groups.add(group)
        HubStaff.objects.get_or_create(hub=extracted or HubFactory(), user=self)
