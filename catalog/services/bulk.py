"""Bulk writes of product rows (seed and import): one upsert by SKU through the ORM.

PostgreSQL computes `search_vector` (a generated column) for inserted and updated rows alike,
so search stays right. Callers validate rows first (importing) and run inside a transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from ..models import Product

# Everything an import or export carries, in file order (category and department by id here).
FIELDS = (
    "sku",
    "name",
    "slug",
    "brand",
    "size",
    "description",
    "image_url",
    "category_id",
    "department_id",
    "price",
    "currency",
    "active",
    "age_restricted",
    "attributes",
)
BATCH = 2000


@dataclass(frozen=True)
class Row:
    sku: str
    name: str
    slug: str
    brand: str
    size: str
    description: str
    image_url: str
    category_id: int
    department_id: int
    price: Decimal
    currency: str
    active: bool
    age_restricted: bool
    attributes: dict[str, Any]

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in FIELDS)


def upsert(rows: Sequence[Row]) -> dict[str, int]:
    """Insert the rows of new SKUs and overwrite every field of existing ones (matched by
    SKU); returns the products' ids by SKU."""
    if not rows:
        return {}
    products = Product.objects.bulk_create(
        [Product(**dict(zip(FIELDS, row.values(), strict=True))) for row in rows],
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["sku"],
        update_fields=[*(f.removesuffix("_id") for f in FIELDS if f != "sku"), "updated_at"],
    )
    return {product.sku: product.id for product in products}


# Writes of more rows than this leave the planner's statistics of the product table stale.
LARGE_WRITE = 1000


def statistics_refresh() -> None:
    """Refresh the planner's statistics of the product table after a large write. Until
    autovacuum gets round to it (minutes, or never on a quiet server) the planner estimates
    from the table as it was, and picks a bitmap scan and a sort over the department indexes
    (docs/performance.md: an uncached department page 201 → 383 requests/s)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Product._meta.db_table}")
