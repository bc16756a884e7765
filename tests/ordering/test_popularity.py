"""popularity_share: units sold lately reach the catalog through its door."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from ordering import services
from ordering.models import Order
from tests.catalog.factories import ProductFactory
from tests.ordering.factories import OrderFactory, line_inputs_for

pytestmark = pytest.mark.django_db


def test_units_sold_in_the_last_days_become_the_products_popularity():
    # Given two products, one bought in two orders (3 units), the other in a cancelled order
    # and in one placed long ago
    hot, cold = ProductFactory(sku="HOT-1"), ProductFactory(sku="COLD-1")
    OrderFactory(lines=line_inputs_for([hot], quantity=2))
    OrderFactory(lines=line_inputs_for([hot], quantity=1))
    OrderFactory(lines=line_inputs_for([cold], quantity=5), status="cancelled")
    old = OrderFactory(lines=line_inputs_for([cold], quantity=4))
    Order.objects.filter(number=old.number).update(placed_at=timezone.now() - timedelta(days=31))
    # When ordering shares what sold
    services.popularity_share()
    # Then the catalog knows
    assert dict(Product.objects.values_list("sku", "popularity")) == {"HOT-1": 3, "COLD-1": 0}


def test_sharing_twice_changes_nothing_the_second_time():
    OrderFactory(lines=line_inputs_for([ProductFactory(sku="HOT-1")], quantity=2))
    services.popularity_share()

    assert services.popularity_share() == 0
