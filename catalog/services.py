"""catalog door: the commands and queries other apps may use (see docs/doors.md).

Queries return frozen DTOs, never models or QuerySets. Commands publish ProductChanged /
PriceChanged inside their transaction.
"""

import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Subquery

from prime_now.kernel import bus
from prime_now.kernel.errors import NotFoundError, ValidationError
from prime_now.kernel.money import to_decimal

from . import readcache
from .events import EVENT_BATCH, PriceChanged, ProductChanged
from .models import MAX_PRICE, Category, Department, PriceHistory, Product

__all__ = [
    "CategoryDTO",
    "DepartmentDTO",
    "InvalidSearchError",
    "ProductDTO",
    "ProductNotFoundError",
    "ProductPage",
    "catalog_last_modified",
    "department_tree",
    "prices_for_skus",
    "product_get",
    "product_price_set",
    "product_search",
    "product_suggest",
    "products_by_ids",
    "products_by_skus",
    "products_set_active",
]


@dataclass(frozen=True)
class CategoryDTO:
    slug: str
    name: str
    path: str  # "groceries/snacks"


@dataclass(frozen=True)
class DepartmentDTO:
    slug: str
    name: str
    categories: tuple[CategoryDTO, ...]


@dataclass(frozen=True)
class ProductDTO:
    id: int
    sku: str
    name: str
    slug: str
    brand: str
    size: str
    description: str
    image_url: str
    department: str  # slug
    category: str  # slug
    price: Decimal
    currency: str
    active: bool
    age_restricted: bool


@dataclass(frozen=True)
class ProductPage:
    items: tuple[ProductDTO, ...]
    next_cursor: str | None
    previous_cursor: str | None


class ProductNotFoundError(NotFoundError):
    code = "product_not_found"
    default_message = "No product with this SKU."


class InvalidSearchError(ValidationError):
    """A search parameter (ordering, page size, cursor, price range) is not acceptable."""

    code = "invalid_search"
    default_message = "The search parameters are not valid."


def to_dto(product: Product) -> ProductDTO:
    """The DTO of a product loaded with `select_related("category__department")`."""
    return ProductDTO(
        id=product.id,
        sku=product.sku,
        name=product.name,
        slug=product.slug,
        brand=product.brand,
        size=product.size,
        description=product.description,
        image_url=product.image_url,
        department=product.department.slug,
        category=product.category.slug,
        price=to_decimal(product.price),
        currency=product.currency,
        active=product.active,
        age_restricted=product.age_restricted,
    )


def _with_tree():
    return Product.objects.select_related("category", "department").defer("search_vector")


# The columns of a ProductDTO, in field order: lists read these, not whole models.
DTO_COLUMNS = (
    "id",
    "sku",
    "name",
    "slug",
    "brand",
    "size",
    "description",
    "image_url",
    "department__slug",
    "category__slug",
    "price",
    "currency",
    "active",
    "age_restricted",
)
PRICE_AT = DTO_COLUMNS.index("price")


def dto_from_row(row: tuple) -> ProductDTO:
    """The DTO of a `values_list(*DTO_COLUMNS, ...)` row (extra trailing columns ignored)."""
    values = list(row[: len(DTO_COLUMNS)])
    values[PRICE_AT] = to_decimal(values[PRICE_AT])
    return ProductDTO(*values)


def _dtos(queryset) -> list[ProductDTO]:
    return [dto_from_row(row) for row in queryset.values_list(*DTO_COLUMNS)]


# --- queries ----------------------------------------------------------------------------------


def product_get(*, sku: str) -> ProductDTO:
    """The product with this SKU, active or not (check `.active` before selling it)."""
    found = _dtos(Product.objects.filter(sku=sku))
    if not found:
        raise ProductNotFoundError(fields={"sku": sku})
    return found[0]


def products_by_ids(*, ids: Iterable[int]) -> dict[int, ProductDTO]:
    """The products with these ids (unknown ids are left out), in one query."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return {}
    return {p.id: p for p in _dtos(Product.objects.filter(id__in=wanted))}


def products_by_skus(*, skus: Iterable[str]) -> dict[str, ProductDTO]:
    """The products with these SKUs (unknown SKUs are left out), in one query.

    On PostgreSQL the query is one ready-made statement (`sku = ANY(%s)`): it sits on the
    checkout and promise paths, where building it with the ORM cost more than running it."""
    wanted = set(skus)
    if not wanted:
        return {}
    if connection.vendor != "postgresql":
        return {p.sku: p for p in _dtos(Product.objects.filter(sku__in=wanted))}
    with connection.cursor() as cursor:
        cursor.execute(_by_skus_sql(), [list(wanted)])
        return {row[1]: dto_from_row(row) for row in cursor.fetchall()}


_BY_SKUS_SQL: list[str] = []


def _by_skus_sql() -> str:
    """DTO_COLUMNS by SKU, as the ORM would select them (built once, from the models)."""
    if not _BY_SKUS_SQL:
        quote = connection.ops.quote_name
        product, department, category = (
            quote(model._meta.db_table) for model in (Product, Department, Category)
        )
        columns = []
        for name in DTO_COLUMNS:
            if name.startswith(("department__", "category__")):
                relation, field = name.split("__")
                model = Department if relation == "department" else Category
                table = department if relation == "department" else category
                columns.append(f"{table}.{quote(model._meta.get_field(field).column)}")
            else:
                columns.append(f"{product}.{quote(Product._meta.get_field(name).column)}")
        _BY_SKUS_SQL.append(
            f"SELECT {', '.join(columns)} FROM {product}"
            f" JOIN {department} ON {product}.{quote(Product._meta.get_field('department').column)}"
            f" = {department}.{quote(Department._meta.pk.column)}"
            f" JOIN {category} ON {product}.{quote(Product._meta.get_field('category').column)}"
            f" = {category}.{quote(Category._meta.pk.column)}"
            f" WHERE {product}.{quote(Product._meta.get_field('sku').column)} = ANY(%s)"
            f" ORDER BY {product}.{quote(Product._meta.get_field('name').column)},"
            f" {product}.{quote(Product._meta.pk.column)}"
        )
    return _BY_SKUS_SQL[0]


def prices_for_skus(*, skus: Iterable[str]) -> dict[str, Decimal]:
    """Current prices of the active products among these SKUs."""
    wanted = set(skus)
    if not wanted:
        return {}
    rows = Product.objects.filter(sku__in=wanted, active=True).values_list("sku", "price")
    return {sku: to_decimal(price) for sku, price in rows}


def department_tree() -> tuple[DepartmentDTO, ...]:
    """Departments in display order, each with its categories (two queries; shared cache)."""
    cache_key = readcache.key("departments", catalog_version())
    tree = readcache.get(cache_key)
    if tree is readcache.MISSING:
        tree = _department_tree()
        readcache.put(cache_key, tree)
    return tree


def _department_tree() -> tuple[DepartmentDTO, ...]:
    categories: dict[int, list[CategoryDTO]] = {}
    for cat in Category.objects.order_by("position", "name"):
        categories.setdefault(cat.department_id, []).append(
            CategoryDTO(slug=cat.slug, name=cat.name, path=cat.path)
        )
    return tuple(
        DepartmentDTO(slug=d.slug, name=d.name, categories=tuple(categories.get(d.id, ())))
        for d in Department.objects.order_by("position", "name")
    )


def product_search(
    *,
    query: str = "",
    department: str | None = None,
    category: str | None = None,
    brand: str | None = None,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
    product_ids: Collection[int] | None = None,
    ordering: str = "relevance",
    page_size: int = 24,
    cursor: str | None = None,
) -> ProductPage:
    """One page of active products matching the query and filters.

    `query` is matched as you type (the last word may be a prefix) and tolerates typos.
    `ordering`: relevance (best match first; name order without a query) | name | price |
    -price. Pages are keyset-paginated: pass `next_cursor`/`previous_cursor` back as `cursor`;
    a page never repeats or skips a product when others are added or removed meanwhile.
    `product_ids` narrows to these products (e.g. what a hub has in stock).
    Pages without `product_ids` come from a shared cache keyed by the catalog's version
    (see catalog/readcache.py): a write is seen at once in its own process and within a
    second (the version memo) in the others.
    Raises InvalidSearchError for an unknown ordering, a page size outside 1..100, a price
    range that is negative or reversed, or a cursor this function did not make.
    """
    from . import search

    args = {
        "query": query,
        "department": department,
        "category": category,
        "brand": brand,
        "price_min": price_min,
        "price_max": price_max,
        "ordering": ordering,
        "page_size": page_size,
        "cursor": cursor,
    }
    # Pages narrowed to product ids (a hub's stock) follow the stock, not the catalog: computed.
    if product_ids is not None:
        return search.run(**args, product_ids=product_ids)
    # Only valid arguments are ever stored (run raises first), and the key is their repr.
    cache_key = readcache.key("search", catalog_version(), *args.items())
    page = readcache.get(cache_key)
    if page is readcache.MISSING:
        page = search.run(**args, product_ids=None)
        readcache.put(cache_key, page)
    return page


def product_suggest(*, prefix: str, limit: int = 8) -> tuple[ProductDTO, ...]:
    """Best active matches for what has been typed so far (search-as-you-type)."""
    if not prefix.strip():
        return ()
    limit = max(1, min(int(limit), 50))
    return product_search(query=prefix, page_size=limit).items


_VERSION_TTL = 1.0  # seconds; HTTP caches are told max-age=60 anyway
# (when read, last change, read-cache generation)
_version_memo: tuple[float, datetime | None, int] | None = None


def _catalog_state() -> tuple[datetime | None, int]:
    global _version_memo
    now = time.monotonic()
    memo = _version_memo
    if memo is not None and now - memo[0] < _VERSION_TTL:
        return memo[1], memo[2]
    # Products and categories hang off departments: no department, nothing at all.
    latest = Department.objects.aggregate(
        d=Max("updated_at"),
        c=Max(Subquery(Category.objects.order_by("-updated_at").values("updated_at")[:1])),
        p=Max(Subquery(Product.objects.order_by("-updated_at").values("updated_at")[:1])),
    )
    stamps = [s for s in latest.values() if s is not None]
    value = max(stamps) if stamps else None
    generation = readcache.generation()
    _version_memo = (now, value, generation)
    return value, generation


def catalog_last_modified() -> datetime | None:
    """When anything in the catalog last changed (for HTTP validators).

    One indexed query, remembered for a second per process: the API asks on every request,
    and writes through these services forget it at once (other processes within a second).
    """
    return _catalog_state()[0]


def catalog_version() -> str:
    """A token that changes with every catalog change (catalog-internal: the API's ETags and
    the read cache's keys). The last change alone can miss a write whose transaction started
    before another's but committed after it, so the writes also bump a shared generation."""
    changed, generation = _catalog_state()
    return f"{changed.isoformat() if changed else '-'}|{generation}"


def forget_last_modified() -> None:
    global _version_memo
    _version_memo = None


def _catalog_changed() -> None:
    readcache.bump_generation()
    forget_last_modified()


# --- commands ---------------------------------------------------------------------------------


def publish_changes(*, product_ids: Iterable[int], price_ids: Iterable[int] = ()) -> None:
    """Publish ProductChanged/PriceChanged for these ids, in batches (call inside the write's
    transaction)."""
    forget_last_modified()  # this process looks the version up again at once
    transaction.on_commit(_catalog_changed)  # everyone moves to new keys once it is visible
    for event_type, ids in ((ProductChanged, product_ids), (PriceChanged, price_ids)):
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), EVENT_BATCH):
            bus.publish(event_type(product_ids=tuple(ordered[start : start + EVENT_BATCH])))


def product_price_set(
    *, sku: str, price: Decimal, changed_by_id: int | None = None, source: str = "service"
) -> ProductDTO:
    """Change a product's price, recording who changed it, when and from what.

    Setting the current price again changes nothing and records nothing.
    """
    try:
        new_price = to_decimal(price)
    except (TypeError, ValueError) as exc:
        raise ValidationError(str(exc), fields={"price": "Not an amount of money."})
    if not new_price.is_finite():
        raise ValidationError("A price is a finite amount.", fields={"price": "Not a number."})
    if new_price <= 0:
        raise ValidationError("A price must be above zero.", fields={"price": "Must be > 0."})
    if new_price > MAX_PRICE:
        raise ValidationError(
            f"A price is at most {MAX_PRICE}.", fields={"price": f"Must be <= {MAX_PRICE}."}
        )
    with transaction.atomic():
        product = _with_tree().select_for_update(of=("self",)).filter(sku=sku).first()
        if product is None:
            raise ProductNotFoundError(fields={"sku": sku})
        if product.price != new_price:
            PriceHistory.objects.create(
                product=product,
                old_price=product.price,
                new_price=new_price,
                currency=product.currency,
                changed_by_id=changed_by_id,
                source=source,
            )
            product.price = new_price
            product.save(update_fields=["price", "updated_at"])
            publish_changes(product_ids=(), price_ids=[product.id])
    return to_dto(product)


def products_set_active(*, ids: Iterable[int], active: bool) -> int:
    """Activate or deactivate products; returns how many changed."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return 0
    from django.utils import timezone

    with transaction.atomic():
        changing = list(
            Product.objects.select_for_update()
            .filter(id__in=wanted)
            .exclude(active=active)
            .values_list("id", flat=True)
        )
        if changing:
            Product.objects.filter(id__in=changing).update(active=active, updated_at=timezone.now())
            publish_changes(product_ids=changing)
    return len(changing)
