"""What sells: units sold per product lately, reported down to the catalog (its door), which
lets search lift popular products. Catalog never reads ordering's tables."""

from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from catalog import services as catalog

from ..models import OrderLine
from ..statuses import OrderStatus

POPULARITY_DAYS = 30


def popularity_share(*, days: int = POPULARITY_DAYS) -> int:
    """Tell the catalog how many units of each SKU sold in the last `days` days (cancelled
    orders left out); returns how many products' figures changed. Idempotent."""
    since = timezone.now() - timedelta(days=days)
    sold = (
        OrderLine.objects.filter(order__placed_at__gte=since)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values("sku")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    return catalog.product_popularity_set(units_by_sku={row["sku"]: row["units"] for row in sold})
