"""Bulk writes of product rows (seed and import): one upsert by SKU through the ORM.

Each row's `taxonomy` (the search words of its department and category) is filled in here.

PostgreSQL computes `search_vector` (a generated column) for inserted and updated rows alike,
so search stays right. Callers validate rows first (importing) and run inside a transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from ..models import Category, Product, taxonomy

# Everything an import or export carries, in file order (category and department by id here).
FIELDS = (
    "sku",
    "name",
    "slug",
    "brand",
    "product_type",
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
    product_type: str
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
    words = {
        c.id: taxonomy(c.department.name, c.name)
        for c in Category.objects.filter(id__in={row.category_id for row in rows}).select_related(
            "department"
        )
    }
    products = Product.objects.bulk_create(
        [
            Product(**dict(zip(FIELDS, row.values(), strict=True)), taxonomy=words[row.category_id])
            for row in rows
        ],
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["sku"],
        update_fields=[
            *(f.removesuffix("_id") for f in FIELDS if f != "sku"),
            "taxonomy",
            "updated_at",
        ],
    )
    return {product.sku: product.id for product in products}


# Writes of more rows than this leave the search indexes and the planner's statistics behind.
LARGE_WRITE = 1000

# The product table's GIN indexes (full text, trigrams) keep new entries in a pending list that
# every search reads linearly until (auto)vacuum folds it in.
_CLEAN_GIN_PENDING_LISTS = """
    SELECT gin_clean_pending_list(i.indexrelid)
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am a ON a.oid = c.relam
     WHERE i.indrelid = %s::regclass AND a.amname = 'gin'
"""


def after_write(rows: int) -> None:
    """After a write of more than LARGE_WRITE product rows: after_large_write()."""
    if rows > LARGE_WRITE:
        after_large_write()


def after_large_write() -> None:
    """After thousands of product rows: fold the GIN indexes' pending lists into the indexes
    and refresh the planner's statistics. Until autovacuum gets round to both (minutes, or
    never on a quiet server) searches scan the pending lists and the planner plans for the
    table as it was: right after the 25,000-product import the uncached search page ran a
    sequential scan, and the department page a bitmap scan and a sort (docs/performance.md)."""
    table = Product._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(_CLEAN_GIN_PENDING_LISTS, [table])
        cursor.execute(f"ANALYZE {table}")
