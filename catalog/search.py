"""Product search and listing pages (private to the catalog; the door is services.product_search).

A query is matched in two modes, chosen per query:
- "words": every term (the last one typed may be a prefix) appears in the product. PostgreSQL
  does this with the trigger-maintained `search_vector` (name A > brand B > description C >
  size/attributes D), a prefix tsquery and the GIN index; rank = ts_rank, so a match in the
  name outranks one in the brand, which outranks one in the description.
- "typo": when no product matches the words, the query is compared to names and brands by
  pg_trgm word similarity (trigram GIN indexes), ranked by similarity.
The mode travels in the cursor, so every page of one listing uses the same one.
SQLite computes the same two modes in Python (correct, slower).

Pagination is keyset ("cursor"): the cursor holds the sort key of the boundary row, so pages
stay stable while products are added or removed. Every ordering ends with the id as tiebreak.
"""

import base64
import binascii
import json
import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    BooleanField,
    F,
    FloatField,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Greatest

from .models import Category, Department, Product
from .services import DTO_COLUMNS, InvalidSearchError, ProductPage, dto_from_row

ORDERINGS = ("relevance", "name", "price", "-price")
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
# pg_trgm's default word_similarity_threshold is 0.6, which misses "yoghurt" for "yogurt"
# (0.5); the typo mode sets 0.5 for its session. The SQLite fallback uses the same bar.
TYPO_THRESHOLD = 0.5
# A single letter would match most of the catalog as a prefix (and rank all of it): a
# one-character term matches whole words only.
PREFIX_FROM = 2
WORD = re.compile(r"[^\W_]+", re.UNICODE)

# (field, descending) pairs; every ordering ends with the id as tiebreak.
SORT_KEYS: dict[str, tuple[tuple[str, bool], ...]] = {
    "relevance": (("rank", True), ("id", False)),
    "name": (("name", False), ("id", False)),
    "price": (("price", False), ("id", False)),
    "-price": (("price", True), ("id", True)),  # matches a backward index scan
}


WORDS, TYPO = "words", "typo"


@dataclass(frozen=True)
class Cursor:
    ordering: str
    backwards: bool
    key: tuple[Any, ...]
    mode: str = WORDS


def terms_of(query: str) -> list[str]:
    return [t.lower() for t in WORD.findall(query[:MAX_QUERY_LENGTH])][:MAX_TERMS]


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(ordering: str, backwards: bool, key: tuple[Any, ...], mode: str = WORDS) -> str:
    values = [str(v) if isinstance(v, Decimal) else v for v in key]
    raw = json.dumps({"o": ordering, "b": backwards, "k": values, "m": mode}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, ordering: str) -> Cursor:
    bad = InvalidSearchError(
        "This cursor is not valid for this listing; start again from the first page.",
        fields={"cursor": "Not a cursor from this listing."},
    )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        keys = SORT_KEYS[data["o"]]
        values = data["k"]
        backwards = data["b"]
        mode = data["m"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise bad
    if data["o"] != ordering or not isinstance(backwards, bool) or mode not in (WORDS, TYPO):
        raise bad
    if not isinstance(values, list) or len(values) != len(keys):
        raise bad
    key: list[Any] = []
    for (field, _desc), value in zip(keys, values, strict=True):
        try:
            if field == "id":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise TypeError
                key.append(value)
            elif field == "price":
                if not isinstance(value, str) or not Decimal(value).is_finite():
                    raise TypeError
                key.append(Decimal(value))
            elif field == "rank":
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise TypeError
                key.append(float(value))
            elif not isinstance(value, str):
                raise TypeError
            else:
                key.append(value)
        except (TypeError, InvalidOperation):
            raise bad
    return Cursor(ordering=ordering, backwards=backwards, key=tuple(key), mode=mode)


# --- validation -------------------------------------------------------------------------------


def _validate(ordering: str, page_size: int, price_min, price_max) -> None:
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


# --- the filters shared by both paths ---------------------------------------------------------


def _filtered(
    *, department, category, brand, price_min, price_max, product_ids, category_field=None
) -> QuerySet[Product]:
    """Active products passing the filters. `product_ids` is a list of ints (or None);
    `category_field` ("slug" | "path") says what `category` is (default: a path has a "/")."""
    qs = Product.objects.filter(active=True)
    # Slugs become ids in scalar subqueries, so that the planner walks the
    # (department|category, active, name|price, id) indexes in order instead of joining.
    if department:
        qs = qs.filter(
            department_id=Subquery(Department.objects.filter(slug=department).values("id")[:1])
        )
    if category:
        # A slug, or a path "department/category".
        field = category_field or ("path" if "/" in category else "slug")
        qs = qs.filter(
            category_id=Subquery(Category.objects.filter(**{field: category}).values("id")[:1])
        )
    if brand:
        qs = qs.filter(brand__iexact=brand)
    if price_min is not None:
        qs = qs.filter(price__gte=price_min)
    if price_max is not None:
        qs = qs.filter(price__lte=price_max)
    if product_ids is not None:
        if connection.vendor == "postgresql":
            # One array parameter, however many ids (a hub's whole stock list).
            qs = qs.filter(
                RawSQL(f'"{Product._meta.db_table}"."id" = ANY(%s)', (product_ids,), BooleanField())
            )
        else:
            qs = qs.filter(id__in=product_ids)
    return qs


def run(
    *,
    query: str,
    department: str | None,
    category: str | None,
    brand: str | None,
    price_min: Decimal | None,
    price_max: Decimal | None,
    product_ids: Collection[int] | None,
    ordering: str,
    page_size: int,
    cursor: str | None,
) -> ProductPage:
    _validate(ordering, page_size, price_min, price_max)
    terms = terms_of(query or "")
    if ordering == "relevance" and not terms:
        ordering = "name"
    position = decode_cursor(cursor, ordering) if cursor else None
    if product_ids is not None and not product_ids:
        return ProductPage(items=(), next_cursor=None, previous_cursor=None)
    filters = {
        "department": department or None,
        "category": category or None,
        "brand": brand or None,
        "price_min": price_min,
        "price_max": price_max,
        "product_ids": None if product_ids is None else sorted({int(i) for i in product_ids}),
    }
    if terms and connection.vendor != "postgresql":
        return _python_page(_filtered(**filters), terms, ordering, page_size, position)
    if not terms:
        return _sql_page(filters, None, ordering, page_size, position)
    if position is not None:
        return _sql_page(filters, terms, ordering, page_size, position, position.mode)
    page = _sql_page(filters, terms, ordering, page_size, None, WORDS)
    if page.items:
        return page
    return _sql_page(filters, terms, ordering, page_size, None, TYPO)


# --- PostgreSQL / SQL path --------------------------------------------------------------------


def _match_text(terms: list[str], mode: str) -> str:
    """The one text parameter of a match: a prefix tsquery (words) or the words (typo)."""
    if mode == WORDS:
        # Terms are [^\W_]+ words, so they cannot inject tsquery syntax.
        return " & ".join(t + (":*" if len(t) >= PREFIX_FROM else "") for t in terms)
    return " ".join(terms)


def _set_typo_threshold() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
            [str(TYPO_THRESHOLD)],
        )


def _pg_matching(qs: QuerySet[Product], text: str, mode: str) -> QuerySet[Product]:
    """Products matching `_match_text(...)` in this mode, annotated with their `rank`
    (typo mode needs `_set_typo_threshold()` on the connection before the query runs)."""
    if mode == WORDS:
        tsquery = SearchQuery(text, config="english", search_type="raw")
        return qs.filter(search_vector=tsquery).annotate(
            rank=Cast(SearchRank(F("search_vector"), tsquery), FloatField())
        )
    table = Product._meta.db_table
    # A UNION of two index scans: an OR of the two operators makes the planner scan the table.
    matching = RawSQL(
        f'"{table}"."id" IN (SELECT id FROM {table} WHERE name %%> %s'
        f" UNION SELECT id FROM {table} WHERE brand %%> %s)",
        (text, text),
        BooleanField(),
    )
    return qs.filter(matching).annotate(
        rank=Cast(
            Greatest(
                TrigramWordSimilarity(Value(text), "name"),
                TrigramWordSimilarity(Value(text), "brand"),
            ),
            FloatField(),
        )
    )


def _keyset_q(keys, key: tuple[Any, ...], backwards: bool) -> Q:
    """Rows strictly after `key` in this order (before it when `backwards`)."""
    condition = Q()
    for i, (field, desc) in enumerate(keys):
        after_desc = desc != backwards
        step = Q(**{f"{field}__{'lt' if after_desc else 'gt'}": key[i]})
        for j, (prev_field, _desc) in enumerate(keys[:i]):
            step &= Q(**{prev_field: key[j]})
        condition |= step
    return condition


def _order_by(keys, backwards: bool) -> list[str]:
    return [("-" if desc != backwards else "") + field for field, desc in keys]


def _sql_page(
    filters: dict[str, Any],
    terms: list[str] | None,
    ordering: str,
    page_size: int,
    position: Cursor | None,
    mode: str = WORDS,
) -> ProductPage:
    keys = SORT_KEYS[ordering]
    backwards = bool(position and position.backwards)
    columns = (*DTO_COLUMNS, *(f for f, _ in keys if f not in DTO_COLUMNS))
    at = {name: columns.index(name) for name, _ in keys}
    values = dict(filters)
    values["match"] = _match_text(terms, mode) if terms else None
    for i, (_field, _desc) in enumerate(keys):
        values[f"key{i}"] = position.key[i] if position else None
    category = filters["category"]
    shape = (
        ordering,
        backwards,
        mode if terms else None,
        page_size,
        "path" if category and "/" in category else "slug",
        tuple(name for name, value in values.items() if value is not None),
    )

    def build(v: dict[str, Any]):
        qs = _filtered(
            department=v["department"],
            category=v["category"],
            brand=v["brand"],
            price_min=v["price_min"],
            price_max=v["price_max"],
            product_ids=v["product_ids"],
            category_field=shape[4],
        )
        if terms:
            qs = _pg_matching(qs, v["match"], mode)
        if position:
            qs = qs.filter(
                _keyset_q(keys, tuple(v[f"key{i}"] for i in range(len(keys))), backwards)
            )
        return qs.order_by(*_order_by(keys, backwards)).values_list(*columns)[: page_size + 1]

    if terms and mode == TYPO:
        _set_typo_threshold()
    rows = _fetch(shape, values, build)
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    return _page(
        [dto_from_row(r) for r in rows],
        [tuple(r[at[name]] for name, _ in keys) for r in rows],
        ordering,
        position,
        more,
        position.mode if position else mode,
    )


# --- compiled queries -------------------------------------------------------------------------
# Building and compiling a page's QuerySet costs far more CPU than PostgreSQL takes to run it
# (about 1.5 ms against 0.2 ms for a 24-product listing). The SQL of a page depends only on
# its shape (ordering, direction, mode, page size, which filters are set), so each shape is
# compiled once per process with marker values in place of the arguments, and later pages of
# that shape reuse the SQL with their own values in the markers' parameter slots. The ORM
# stays the one definition of every query; a shape whose markers do not come through
# compilation untouched (every one a whole parameter, none inlined) is never reused.

MAX_TEMPLATES = 2000
_UNKNOWN = object()
_templates: dict[tuple, tuple[str, tuple[tuple[bool, Any], ...]] | None] = {}


def _marker(name: str, value: Any, n: int) -> tuple[Any, str]:
    """A value of the same type as `value` that no real argument or constant can equal, and
    the text it would leave in the SQL if it were inlined rather than passed as a parameter."""
    big = 7_000_000_000_000 + n
    if isinstance(value, str):
        return f"\x1fpn-{name}-{n}\x1f", f"pn-{name}-{n}"
    if isinstance(value, bool):
        raise TypeError(name)
    if isinstance(value, int):
        return -big, str(big)
    if isinstance(value, float):
        return -big - 0.5, str(big)
    if isinstance(value, Decimal):
        return Decimal(-big) - Decimal("0.25"), str(big)
    if isinstance(value, list):
        return [-big], str(big)
    raise TypeError(name)


def _same(param: Any, marker: Any) -> bool:
    if isinstance(marker, list):
        return param is marker
    return type(param) is type(marker) and param == marker


def _template(values: dict[str, Any], build) -> tuple[str, tuple[tuple[bool, Any], ...]] | None:
    """The SQL of `build` for this shape and, per parameter, (True, argument name) or
    (False, constant); None when the shape cannot be reused safely."""
    try:
        markers = {
            name: _marker(name, value, n)
            for n, (name, value) in enumerate(values.items())
            if value is not None
        }
    except TypeError:
        return None
    qs = build({name: markers[name][0] if name in markers else None for name in values})
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    slots: list[tuple[bool, Any]] = []
    for param in params:
        name = next((n for n, (m, _tag) in markers.items() if _same(param, m)), None)
        slots.append((True, name) if name is not None else (False, param))
    found = {name for is_value, name in slots if is_value}
    if found != set(markers) or any(tag in sql for _m, tag in markers.values()):
        return None
    return sql, tuple(slots)


def _fetch(shape: tuple, values: dict[str, Any], build) -> list[tuple]:
    """The rows of `build(values)`, through the shape's compiled SQL when it has one."""
    if connection.vendor != "postgresql":
        return list(build(values))
    template = _templates.get(shape, _UNKNOWN)
    if template is _UNKNOWN:
        try:
            template = _template(values, build)
        except Exception:  # anything unexpected: this shape goes through the ORM every time
            template = None
        if len(_templates) >= MAX_TEMPLATES:
            _templates.clear()
        _templates[shape] = template
    if template is None:
        return list(build(values))
    sql, slots = template
    params = [values[slot] if is_value else slot for is_value, slot in slots]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _page(
    items, row_keys, ordering: str, position: Cursor | None, more: bool, mode: str
) -> ProductPage:
    """Cursors for a page: `more` says whether rows exist beyond it in the direction read."""
    if not items:
        return ProductPage(items=(), next_cursor=None, previous_cursor=None)
    backwards = bool(position and position.backwards)
    has_next = more if not backwards else True
    has_previous = (position is not None) if not backwards else more
    return ProductPage(
        items=tuple(items),
        next_cursor=encode_cursor(ordering, False, row_keys[-1], mode) if has_next else None,
        previous_cursor=encode_cursor(ordering, True, row_keys[0], mode) if has_previous else None,
    )


# --- SQLite fallback: the same matching and ranking, in Python ---------------------------------

FIELD_WEIGHTS = (("name", 1.0), ("brand", 0.4), ("description", 0.2), ("extra", 0.1))


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _words(text: str) -> list[str]:
    return [_stem(w.lower()) for w in WORD.findall(text)]


def _trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: each word lowercased, padded with two spaces before, one after."""
    out: set[str] = set()
    for word in WORD.findall(text.lower()):
        padded = f"  {word} "
        out.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return out


def _word_similarity(needle: str, text: str) -> float:
    """Best trigram similarity (shared / all trigrams) of `needle` to a run of consecutive
    words of `text`: pg_trgm's word_similarity, approximately."""
    wanted = _trigrams(needle)
    if not wanted:
        return 0.0
    words = [_trigrams(w) for w in WORD.findall(text)]
    span = max(1, len(WORD.findall(needle)))
    best = 0.0
    for i in range(len(words)):
        for width in (span, span + 1):
            run = set().union(*words[i : i + width])
            shared = len(wanted & run)
            if shared:
                best = max(best, shared / len(wanted | run))
    return best


def _words_score(terms: list[str], fields: dict[str, str]) -> float:
    """Words mode: every term (or a word it prefixes) must appear; each scores the weight of
    the best field it appears in (name > brand > description > size/attributes)."""
    words = {name: _words(text) for name, text in fields.items()}
    score = 0.0
    for term in terms:
        stem = _stem(term)
        best = 0.0
        for name, weight in FIELD_WEIGHTS:
            if any(
                w in (stem, term) or (len(term) >= PREFIX_FROM and w.startswith(stem))
                for w in words[name]
            ):
                best = max(best, weight)
        if best == 0.0:
            return 0.0
        score += best
    return score


def _typo_score(text: str, fields: dict[str, str]) -> float:
    similarity = max(
        _word_similarity(text, fields["name"]), _word_similarity(text, fields["brand"])
    )
    return similarity if similarity >= TYPO_THRESHOLD else 0.0


def _needle(term: str) -> str:
    """A substring every text matching `term` contains (whatever the stemming did)."""
    stem = _stem(term)
    common = os.path.commonprefix([term, stem])
    return common[:-1] if common.endswith("y") else common


def _prefiltered(qs, terms: list[str], mode: str):
    """Narrow the candidates in SQL with conditions every match must meet (LIKE is cheap on
    SQLite); the Python scoring below then decides. Non-ASCII text skips the narrowing,
    since SQLite's LIKE folds ASCII case only."""
    if mode == WORDS:
        qs = qs.annotate(attributes_text=Cast("attributes", TextField()))
        for term in terms:
            needle = _needle(term)
            if not needle.isascii() or not needle:
                continue
            qs = qs.filter(
                Q(name__icontains=needle)
                | Q(brand__icontains=needle)
                | Q(description__icontains=needle)
                | Q(size__icontains=needle)
                | Q(attributes_text__icontains=needle)
            )
        return qs
    text = " ".join(terms)
    cores = {t.strip() for t in _trigrams(text)}
    cores = {c for c in cores if len(c) >= 2}
    if not text.isascii() or not cores:
        return qs
    shares = Q()
    for core in sorted(cores):
        shares |= Q(name__icontains=core) | Q(brand__icontains=core)
    return qs.filter(shares)


def _python_page(qs, terms, ordering: str, page_size: int, position: Cursor | None):
    keys = SORT_KEYS[ordering]

    def matches(mode: str) -> list[tuple[tuple[Any, ...], int]]:
        found = []
        for pid, name, brand, description, size, attributes, price in _prefiltered(
            qs, terms, mode
        ).values_list("id", "name", "brand", "description", "size", "attributes", "price"):
            extra = " ".join([size, *_attribute_words(attributes)])
            fields = {"name": name, "brand": brand, "description": description, "extra": extra}
            if mode == WORDS:
                score = _words_score(terms, fields)
            else:
                score = _typo_score(" ".join(terms), fields)
            if score > 0:
                values = {"rank": score, "name": name, "price": price, "id": pid}
                found.append((tuple(values[field] for field, _ in keys), pid))
        return found

    mode = position.mode if position else WORDS
    scored = matches(mode)
    if not scored and position is None:
        mode = TYPO
        scored = matches(TYPO)

    def sort_value(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(-v if desc else v for v, (_f, desc) in zip(key, keys, strict=True))

    scored.sort(key=lambda item: sort_value(item[0]))
    backwards = bool(position and position.backwards)
    if position:
        boundary = sort_value(position.key)
        if backwards:
            scored = [s for s in scored if sort_value(s[0]) < boundary]
            window = scored[-(page_size + 1) :]
            more = len(window) > page_size
            window = window[-page_size:]
        else:
            scored = [s for s in scored if sort_value(s[0]) > boundary]
            window = scored[: page_size + 1]
            more = len(window) > page_size
            window = window[:page_size]
    else:
        window = scored[: page_size + 1]
        more = len(window) > page_size
        window = window[:page_size]
    by_id = {
        row[0]: dto_from_row(row)
        for row in Product.objects.filter(id__in=[pid for _key, pid in window]).values_list(
            *DTO_COLUMNS
        )
    }
    items = [by_id[pid] for _key, pid in window if pid in by_id]
    return _page(items, [key for key, _pid in window], ordering, position, more, mode)


def _attribute_words(attributes: Any) -> list[str]:
    if isinstance(attributes, dict):
        out: list[str] = []
        for key, value in attributes.items():
            out.append(str(key))
            out.extend(_attribute_words(value))
        return out
    if isinstance(attributes, list):
        return [w for item in attributes for w in _attribute_words(item)]
    if isinstance(attributes, str):
        return [attributes]
    return []
