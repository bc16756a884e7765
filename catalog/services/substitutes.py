"""What may stand in for a product the hub cannot find: the closest in price from its own
category. (Whether one is offered unless the customer chooses is the department's
`substitutes_by_default`, on every ProductDTO.)"""

from collections.abc import Iterable
from typing import Any, cast

from django.db.models import Exists, F, Func, Q, QuerySet, Subquery, Value
from django.db.models.fields import CharField

from ..models import Product
from .dtos import DTO_COLUMNS, ProductDTO, dto_from_row

MAX_SUGGESTIONS = 10


def product_substitutes(
    *, sku: str, limit: int = 3, among_ids: Iterable[int] | None = None
) -> tuple[ProductDTO, ...]:
    """Active products of the same category, closest in price first (never the product itself;
    age-restricted ones only for an age-restricted product). `among_ids`: only these products
    (e.g. what a hub has in stock). Empty for an unknown SKU. One query."""
    return products_substitutes(skus=[sku], limit=limit, among_ids=among_ids).get(sku, ())


def products_substitutes(
    *, skus: Iterable[str], limit: int = 3, among_ids: Iterable[int] | None = None
) -> dict[str, tuple[ProductDTO, ...]]:
    """`product_substitutes` for several SKUs at once, in one query (a cart page)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    limit = max(1, min(limit, MAX_SUGGESTIONS))
    ids = None if among_ids is None else list(among_ids)
    parts = [_closest(sku, limit, ids) for sku in wanted]
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    found: dict[str, list[tuple[float, int, ProductDTO]]] = {}
    for row in cast(Iterable[tuple[Any, ...]], query):
        dto = dto_from_row(row)
        found.setdefault(row[-1], []).append((row[-2], dto.id, dto))
    return {
        sku: tuple(dto for _gap, _id, dto in sorted(rows, key=lambda r: (r[0], r[1])))
        for sku, rows in found.items()
    }


def _closest(sku: str, limit: int, among_ids: list[int] | None) -> QuerySet[Product]:
    original = Product.objects.filter(sku=sku)
    rows = Product.objects.filter(
        category_id=Subquery(original.values("category_id")[:1]), active=True
    ).exclude(sku=sku)
    rows = rows.filter(Q(age_restricted=False) | Exists(original.filter(age_restricted=True)))
    if among_ids is not None:
        rows = rows.filter(id__in=among_ids)
    gap = Func(F("price") - Subquery(original.values("price")[:1]), function="ABS")
    return (
        rows.annotate(gap=gap, for_sku=Value(sku, output_field=CharField()))
        .order_by("gap", "id")
        .values_list(*DTO_COLUMNS, "gap", "for_sku")[:limit]
    )
