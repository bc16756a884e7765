"""Product search and listing pages: product_search and product_suggest.

A query is matched in two modes, chosen per query:
- words: every term (or one of its synonyms, catalog/services/synonyms.py; any term may be a
  prefix) appears in the product, matched against the generated column `search_vector` with a
  prefix tsquery and the GIN index. Ranked by ts_rank on the weights of what a word matched:
  what the product is (department, category, the name's last word: A) > name (B) > brand (C)
  > description, size, attributes (D), so "chips" puts chips before chocolate-chip bars and
  "snack" the snacks department before a snack gift basket. Whole words rank above prefixes
  ("pop" is soda before popcorn), and the product's popularity (units sold lately) multiplies
  the rank a little, so among equally good matches what people buy comes first.
- typo: when no product matches the words, the query is compared to names and brands by
  pg_trgm word similarity (trigram GIN indexes), ranked by that similarity plus the product
  type's.
The mode travels in the cursor, so every page of one listing uses the same one.

Pagination is keyset ("cursor"): the cursor holds the sort key of the boundary row, so pages
stay stable while products are added or removed. Every ordering ends with the id as tiebreak.
"""

import base64
import binascii
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, FloatField, Lookup, Q, Subquery, Value
from django.db.models.functions import Cast, Greatest, Ln
from django.db.models.sql.compiler import SQLCompiler

from prime_now.kernel.levers import lever_on

from ..levers import TYPO_SEARCH
from ..models import Category, Department, Product
from . import readcache
from .changes import catalog_version
from .dtos import DTO_COLUMNS, InvalidSearchError, ProductDTO, ProductPage, dto_from_row
from .synonyms import synonyms_of

ORDERINGS = ("relevance", "name", "price", "-price")
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
# pg_trgm's default word_similarity_threshold is 0.6, which misses "yoghurt" for "yogurt"
# (0.5); the typo mode sets 0.5 for its session.
TYPO_THRESHOLD = 0.5
# A single letter would match most of the catalog as a prefix (and rank all of it): a
# one-character term matches whole words only.
PREFIX_FROM = 2
WORD = re.compile(r"[^\W_]+", re.UNICODE)
# ts_rank's weights for D, C, B, A (see the module docstring), the share of the rank a prefix
# match earns next to a whole word, and how much popularity lifts a rank: 1 + 0.05 ln(1 + units),
# so 100 units sold lift it by a quarter, less than one weight class. Tuned on the judged query
# set (catalog/relevance/judged_queries.json; `manage.py search_quality`).
RANK_WEIGHTS = [0.05, 0.2, 0.4, 1.0]
PREFIX_SHARE = 0.3
POPULARITY_LIFT = 0.05

# (field, descending) pairs; every ordering ends with the id as tiebreak.
SortKeys = tuple[tuple[str, bool], ...]
SORT_KEYS: dict[str, SortKeys] = {
    "relevance": (("rank", True), ("id", False)),
    "name": (("name", False), ("id", False)),
    "price": (("price", False), ("id", False)),
    "-price": (("price", True), ("id", True)),  # matches a backward index scan
}


_AsSql = tuple[str, Sequence[Any]]


class Match(StrEnum):
    WORDS = "words"
    TYPO = "typo"


@dataclass(frozen=True)
class Cursor:
    ordering: str
    backwards: bool
    key: tuple[Any, ...]
    mode: Match = Match.WORDS


@dataclass(frozen=True)
class Filters:
    """What narrows a listing besides the query (product_ids: sorted, or None for all)."""

    department: str | None
    category: str | None
    brand: str | None
    price_min: Decimal | None
    price_max: Decimal | None
    product_ids: tuple[int, ...] | None


# --- the door ---------------------------------------------------------------------------------


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
    (see catalog/services/readcache.py): a write is seen at once in its own process and
    within a second (the version memo) in the others.
    Raises InvalidSearchError for an unknown ordering, a page size outside 1..100, a price
    range that is negative or reversed, or a cursor this function did not make.
    """
    _validate(ordering, page_size, price_min, price_max)
    filters = Filters(
        department=department or None,
        category=category or None,
        brand=brand or None,
        price_min=price_min,
        price_max=price_max,
        product_ids=None if product_ids is None else tuple(sorted({int(i) for i in product_ids})),
    )
    # Pages narrowed to product ids (a hub's stock) follow the stock, not the catalog: computed.
    if product_ids is not None:
        return _search(query, filters, ordering, page_size, cursor)
    # Only valid arguments are ever stored (_search raises first), and the key is their repr.
    # The typo lever is in the key: pulling it is not hidden behind pages cached before.
    cache_key = readcache.key(
        "search",
        catalog_version(),
        lever_on(TYPO_SEARCH),
        query,
        filters,
        ordering,
        page_size,
        cursor,
    )
    return readcache.remembered(
        cache_key, lambda: _search(query, filters, ordering, page_size, cursor)
    )


def product_suggest(*, prefix: str, limit: int = 8) -> tuple[ProductDTO, ...]:
    """Best active matches for what has been typed so far (search-as-you-type)."""
    if not prefix.strip():
        return ()
    limit = max(1, min(int(limit), 50))
    return product_search(query=prefix, page_size=limit).items


# --- validation -------------------------------------------------------------------------------


def _validate(
    ordering: str, page_size: int, price_min: Decimal | None, price_max: Decimal | None
) -> None:
    if ordering not in ORDERINGS:
        raise InvalidSearchError(
            f"Unknown ordering {ordering!r}; use one of: {', '.join(ORDERINGS)}.",
            fields={"ordering": f"Use one of: {', '.join(ORDERINGS)}."},
        )
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise InvalidSearchError(fields={"page_size": "Must be a whole number."})
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidSearchError(
            f"page_size must be between 1 and {MAX_PAGE_SIZE}.",
            fields={"page_size": f"Must be between 1 and {MAX_PAGE_SIZE}."},
        )
    for name, value in (("price_min", price_min), ("price_max", price_max)):
        if value is not None and (
            not isinstance(value, Decimal) or not value.is_finite() or value < 0
        ):
            raise InvalidSearchError(
                f"{name} must be a non-negative amount.", fields={name: "Must be >= 0."}
            )
    if price_min is not None and price_max is not None and price_min > price_max:
        raise InvalidSearchError(
            "price_min is above price_max.", fields={"price_min": "Must be <= price_max."}
        )


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(ordering: str, backwards: bool, key: tuple[Any, ...], mode: Match) -> str:
    values = [str(v) if isinstance(v, Decimal) else v for v in key]
    raw = json.dumps(
        {"o": ordering, "b": backwards, "k": values, "m": str(mode)}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _key_value(field: str, value: Any) -> Any:
    """One sort-key value of a cursor, checked for its field (TypeError when it is wrong)."""
    if field == "id":
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(field)
        return value
    if field == "price":
        if not isinstance(value, str) or not Decimal(value).is_finite():
            raise TypeError(field)
        return Decimal(value)
    if field == "rank":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TypeError(field)
        return float(value)
    if not isinstance(value, str):
        raise TypeError(field)
    return value


def decode_cursor(token: str, ordering: str) -> Cursor:
    bad = InvalidSearchError(
        "This cursor is not valid for this listing; start again from the first page.",
        fields={"cursor": "Not a cursor from this listing."},
    )
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        keys, values = SORT_KEYS[data["o"]], data["k"]
        backwards, mode = data["b"], Match(data["m"])
        if data["o"] != ordering or not isinstance(backwards, bool):
            raise bad
        if not isinstance(values, list) or len(values) != len(keys):
            raise bad
        key = tuple(
            _key_value(field, value) for (field, _desc), value in zip(keys, values, strict=True)
        )
    except (binascii.Error, ValueError, KeyError, TypeError, InvalidOperation):
        raise bad from None
    return Cursor(ordering=ordering, backwards=backwards, key=key, mode=mode)


# --- the query --------------------------------------------------------------------------------


def terms_of(query: str) -> list[str]:
    return [t.lower() for t in WORD.findall(query[:MAX_QUERY_LENGTH])][:MAX_TERMS]


def _search(
    query: str, filters: Filters, ordering: str, page_size: int, cursor: str | None
) -> ProductPage:
    terms = terms_of(query)
    if ordering == "relevance" and not terms:
        ordering = "name"
    position = decode_cursor(cursor, ordering) if cursor else None
    if filters.product_ids == ():
        return ProductPage(items=(), next_cursor=None, previous_cursor=None)
    if not terms or position is not None:
        mode = position.mode if position else Match.WORDS
        return _page(filters, terms, mode, ordering, page_size, position)
    page = _page(filters, terms, Match.WORDS, ordering, page_size, None)
    if page.items or not lever_on(TYPO_SEARCH):
        return page
    return _page(filters, terms, Match.TYPO, ordering, page_size, None)


def _conditions(filters: Filters) -> Q:
    """What an active product passing the filters meets."""
    condition = Q(active=True)
    # Slugs become ids in scalar subqueries, so that the planner walks the
    # (department|category, active, name|price, id) indexes in order instead of joining.
    if filters.department:
        departments = Department.objects.filter(slug=filters.department).order_by()
        condition &= Q(department_id=Subquery(departments.values("id")[:1]))
    if filters.category:
        # A slug, or a path "department/category".
        by = "path" if "/" in filters.category else "slug"
        categories = Category.objects.filter(**{by: filters.category}).order_by()
        condition &= Q(category_id=Subquery(categories.values("id")[:1]))
    if filters.brand:
        condition &= Q(brand__iexact=filters.brand)
    if filters.price_min is not None:
        condition &= Q(price__gte=filters.price_min)
    if filters.price_max is not None:
        condition &= Q(price__lte=filters.price_max)
    if filters.product_ids is not None:
        condition &= Q(_AnyOf(F("id"), filters.product_ids))
    return condition


if TYPE_CHECKING:
    _IntLookup = Lookup[int]
else:
    _IntLookup = Lookup  # not subscriptable at run time


class _AnyOf(_IntLookup):
    """`lhs = ANY(%s)`: the values travel as one array parameter.

    Kept for pages narrowed to a hub's stock (the storefront's "deliverable" listing):
    `id__in` sends one parameter per id, and a page of 10,000 ids took 555 ms with it
    against 37-69 ms with one array (same machine, same hour).
    """

    lookup_name = "any_of"
    prepare_rhs = False

    # The stubs type SQL parameters as str | int; this lookup's one parameter is a list.
    def get_db_prep_lookup(  # type: ignore[override]
        self, value: Any, connection: BaseDatabaseWrapper
    ) -> _AsSql:
        return "%s", [list(value)]

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> _AsSql:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def _alternatives(term: str, prefix: bool) -> str:
    """A term or any of its synonyms, as tsquery text (a phrase's words follow each other)."""
    words = [term + (":*" if prefix and len(term) >= PREFIX_FROM else "")]
    words += [" <-> ".join(terms_of(phrase)) for phrase in synonyms_of(term)]
    return words[0] if len(words) == 1 else "(" + " | ".join(words) + ")"


def tsquery_text(terms: list[str], *, prefix: bool = True) -> str:
    # Terms are [^\W_]+ words and synonyms are ours, so nothing injects tsquery syntax.
    return " & ".join(_alternatives(t, prefix) for t in terms)


def _match(terms: list[str], mode: Match) -> tuple[Q, Cast]:
    """What a product matching the terms in this mode meets, and its rank (as a float8, so
    that the rank a cursor carries compares equal to the row's own)."""
    if mode is Match.WORDS:
        typed = SearchQuery(tsquery_text(terms), config="english", search_type="raw")
        whole = SearchQuery(tsquery_text(terms, prefix=False), config="english", search_type="raw")
        text_rank = SearchRank(F("search_vector"), whole, weights=RANK_WEIGHTS) + Value(
            PREFIX_SHARE
        ) * SearchRank(F("search_vector"), typed, weights=RANK_WEIGHTS)
        lift = Value(1.0) + Value(POPULARITY_LIFT) * Ln(
            Cast(F("popularity"), FloatField()) + Value(1.0)
        )
        return Q(search_vector=typed), Cast(text_rank * lift, FloatField())
    text = " ".join(terms)
    # Matched on the name or brand (the trigram indexes); a near miss of what the product is
    # ranks first ("chedar": cheddar before white-cheddar cheese puffs).
    similarity = Greatest(
        TrigramWordSimilarity(text, "name"), TrigramWordSimilarity(text, "brand")
    ) + TrigramWordSimilarity(text, "product_type")
    matching = Q(name__trigram_word_similar=text) | Q(brand__trigram_word_similar=text)
    return matching, Cast(similarity, FloatField())


def _set_typo_threshold() -> None:
    # Kept hand-written for correctness: pg_trgm's `%>` operator (the one its GIN indexes
    # serve) takes its bar from this setting, which the ORM cannot set.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
            [str(TYPO_THRESHOLD)],
        )


def _after(keys: SortKeys, key: tuple[Any, ...], backwards: bool) -> Q:
    """Rows strictly after `key` in this order (before it when `backwards`)."""
    condition = Q()
    for i, (field, desc) in enumerate(keys):
        step = Q(**{f"{field}__{'lt' if desc != backwards else 'gt'}": key[i]})
        for j, (prev_field, _desc) in enumerate(keys[:i]):
            step &= Q(**{prev_field: key[j]})
        condition |= step
    return condition


def _page(
    filters: Filters,
    terms: list[str],
    mode: Match,
    ordering: str,
    page_size: int,
    position: Cursor | None,
) -> ProductPage:
    keys = SORT_KEYS[ordering]
    backwards = position is not None and position.backwards
    condition = _conditions(filters)
    products = Product.objects.all()
    if terms:
        matching, rank = _match(terms, mode)
        condition &= matching
        products = products.annotate(rank=rank)
        if mode is Match.TYPO:
            _set_typo_threshold()
    if position is not None:
        condition &= _after(keys, position.key, backwards)
    columns = (*DTO_COLUMNS, *(field for field, _ in keys if field not in DTO_COLUMNS))
    at = [columns.index(field) for field, _ in keys]
    order = [("-" if desc != backwards else "") + field for field, desc in keys]
    qs = products.filter(condition).order_by(*order)
    rows = list(qs.values_list(*columns)[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    if not rows:
        return ProductPage(items=(), next_cursor=None, previous_cursor=None)
    has_next = more if not backwards else True
    has_previous = position is not None if not backwards else more
    first, last = (tuple(row[i] for i in at) for row in (rows[0], rows[-1]))
    return ProductPage(
        items=tuple(dto_from_row(row) for row in rows),
        next_cursor=encode_cursor(ordering, False, last, mode) if has_next else None,
        previous_cursor=encode_cursor(ordering, True, first, mode) if has_previous else None,
    )
