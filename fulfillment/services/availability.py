"""What is available where: one query per page, cached for a few seconds for listings.
A reservation never trusts these figures: it locks the rows and reads them itself."""

from collections.abc import Iterable

from django.db.models import F

from ..models import Hub, Stock
from .dto import HubNotFoundError, StockLevelDTO
from .hubs import hub_row
from .ledger import availability_key, cache_get_many, cache_set_many, in_stock_key


def stock_available(*, hub_code: str, product_ids: Iterable[int]) -> dict[int, int]:
    """Available (on hand − reserved) per product at the hub, 0 for unknown products.
    One query for the whole page; cached for a few seconds; never used to reserve."""
    ids = list(dict.fromkeys(int(pid) for pid in product_ids))
    if not ids:
        return {}
    keys = {availability_key(hub_code, pid): pid for pid in ids}
    result: dict[int, int] = {keys[key]: value for key, value in cache_get_many(list(keys)).items()}
    missing = [pid for pid in ids if pid not in result]
    if missing:
        fresh = dict.fromkeys(missing, 0)
        fresh.update(
            Stock.objects.filter(hub__code=hub_code, product_id__in=missing)
            .annotate(free=F("on_hand") - F("reserved"))
            .values_list("product_id", "free")
        )
        if not any(fresh.values()) and not Hub.objects.filter(code=hub_code).exists():
            raise HubNotFoundError(fields={"hub_code": hub_code})
        cache_set_many({availability_key(hub_code, pid): n for pid, n in fresh.items()})
        result.update(fresh)
    return {pid: result[pid] for pid in ids}


def product_ids_in_stock(*, hub_code: str) -> frozenset[int]:
    """Products with at least one unit available at the hub (for filtering listings)."""
    key = in_stock_key(hub_code)
    cached = cache_get_many([key]).get(key)
    if cached is not None:
        return frozenset(cached)
    hub = hub_row(hub_code)
    ids = frozenset(
        Stock.objects.filter(hub=hub, on_hand__gt=F("reserved")).values_list(
            "product_id", flat=True
        )
    )
    cache_set_many({key: sorted(ids)})
    return ids


def stock_levels(
    *, hub_code: str, product_ids: Iterable[int] | None = None
) -> tuple[StockLevelDTO, ...]:
    """Stock rows at a hub as StockLevelDTOs (operators, reports)."""
    hub = hub_row(hub_code)
    rows = Stock.objects.filter(hub=hub)
    if product_ids is not None:
        rows = rows.filter(product_id__in=list(product_ids))
    return tuple(level_dto(hub, row) for row in rows.order_by("aisle", "bin", "sku"))


def low_stock(*, hub_code: str | None = None) -> tuple[StockLevelDTO, ...]:
    """Rows whose available quantity is at or below their threshold."""
    rows = Stock.objects.select_related("hub").annotate(free=F("on_hand") - F("reserved"))
    if hub_code:
        rows = rows.filter(hub=hub_row(hub_code))
    rows = rows.filter(free__lte=F("low_stock_threshold")).order_by("hub__code", "free", "sku")
    return tuple(level_dto(row.hub, row) for row in rows)


def level_dto(hub: Hub, row: Stock) -> StockLevelDTO:
    return StockLevelDTO(
        hub_code=hub.code,
        product_id=row.product_id,
        sku=row.sku,
        name=row.name,
        aisle=row.aisle,
        bin=row.bin,
        on_hand=row.on_hand,
        reserved=row.reserved,
        available=row.available,
        low_stock_threshold=row.low_stock_threshold,
    )
