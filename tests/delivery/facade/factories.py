"""Delivery façade factories: window templates and dated windows."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from delivery.models import Window, WindowKind, WindowTemplate


class WindowTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WindowTemplate

    hub_code = factory.Sequence(lambda n: f"hub-{n}")
    kind = WindowKind.ONE_HOUR
    start_hour = 8
    end_hour = 22
    capacity = 10
    fee = Decimal("7.99")
    free_above = None
    cutoff_minutes = 15


class WindowFactory(factory.django.DjangoModelFactory):
    """A one-hour window starting in two hours (on sale now), capacity 10."""

    class Meta:
        model = Window

    hub_code = factory.Sequence(lambda n: f"hub-{n}")
    kind = WindowKind.ONE_HOUR
    start = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    )
    end = factory.LazyAttribute(lambda w: w.start + timedelta(hours=1))
    cutoff_at = factory.LazyAttribute(lambda w: w.start - timedelta(minutes=15))
    fee = Decimal("7.99")
    free_above = None
    capacity = 10
