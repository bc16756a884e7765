"""Fast bulk writes of product rows (seed and import), bypassing per-object ORM overhead.

PostgreSQL: COPY into the table (inserts) or into a temporary table joined by an UPDATE.
The search-vector trigger fires for both, so search stays right. SQLite: executemany.
Callers validate rows first (catalog.importing) and run inside a transaction.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from .models import Product

TABLE = Product._meta.db_table

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
SQLITE_CHUNK = 900  # stay under SQLite's bound-parameter limit on old builds


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
    attributes: dict

    def values(self) -> tuple:
        return tuple(getattr(self, f) for f in FIELDS)


def _pg_values(row: Row) -> tuple:
    from psycopg.types.json import Jsonb

    return (*row.values()[:-1], Jsonb(row.attributes))


def _sqlite_values(row: Row) -> tuple:
    values = row.values()
    price_at = FIELDS.index("price")
    return (
        *values[:price_at],
        str(row.price),
        *values[price_at + 1 : -1],
        json.dumps(row.attributes),
    )


def insert(rows: Sequence[Row]) -> None:
    if not rows:
        return
    columns = ", ".join(FIELDS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {TABLE} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(_pg_values(row))
        else:
            marks = ", ".join(["%s"] * len(FIELDS))
            cursor.executemany(
                f"INSERT INTO {TABLE} ({columns}) VALUES ({marks})",
                [_sqlite_values(r) for r in rows],
            )


def update(rows: Sequence[Row]) -> None:
    """Overwrite every field of these existing products (matched by SKU)."""
    if not rows:
        return
    settable = [f for f in FIELDS if f != "sku"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = ", ".join(FIELDS)
            cursor.execute("DROP TABLE IF EXISTS catalog_bulk_update")
            cursor.execute(
                "CREATE TEMP TABLE catalog_bulk_update ON COMMIT DROP AS "
                f"SELECT {columns} FROM {TABLE} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY catalog_bulk_update ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(_pg_values(row))
            assignments = ", ".join(f"{f} = t.{f}" for f in settable)
            cursor.execute(
                f"UPDATE {TABLE} AS p SET {assignments}, updated_at = now() "
                "FROM catalog_bulk_update AS t WHERE p.sku = t.sku"
            )
        else:
            assignments = ", ".join(f"{f} = %s" for f in settable)
            cursor.executemany(
                f"UPDATE {TABLE} SET {assignments}, updated_at = CURRENT_TIMESTAMP WHERE sku = %s",
                [(*_sqlite_values(r)[1:], r.sku) for r in rows],
            )


def ids_for_skus(skus: Iterable[str]) -> dict[str, int]:
    wanted = list(dict.fromkeys(skus))
    if not wanted:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT sku, id FROM {TABLE} WHERE sku = ANY(%s)", [wanted])
            return dict(cursor.fetchall())
    found: dict[str, int] = {}
    for start in range(0, len(wanted), SQLITE_CHUNK):
        chunk = wanted[start : start + SQLITE_CHUNK]
        found.update(Product.objects.filter(sku__in=chunk).values_list("sku", "id"))
    return found


GIN_INDEXES = (
    "catalog_product_search_gin",
    "catalog_product_name_trgm",
    "catalog_product_brand_trgm",
)


def after_large_write() -> None:
    """After thousands of rows: fold the GIN indexes' pending lists into the indexes (else
    every search scans the pending list linearly until autovacuum gets round to it) and
    refresh the planner's statistics (else it keeps choosing sequential scans)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for index in GIN_INDEXES:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute(f"ANALYZE {TABLE}")
