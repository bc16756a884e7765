"""Catalog files in and out: CSV and JSON Lines, one product per row, keyed by SKU.

Columns (both formats): sku, name, slug, brand, product_type, size, description, image_url,
department, department_name, category, category_name, price, currency, active, age_restricted,
attributes, image. `image` names a picture file (JPEG, PNG, WebP...) in the images folder
(`images_dir`, by default the file's own folder): it is checked like any field (a missing or
unreadable file is that row's error) and, once the rows are written, stored in both sizes in
place of the drawn picture (catalog/services/pictures.py). Export leaves `image` empty: the
pictures stay in storage.
In CSV, booleans are true/false and `attributes` is a JSON object; in JSON Lines the values
are native, except `price`, which is a string ("3.49") so that no float ever carries money.

Import validates every row and reports each bad one with its line number, then upserts the
good rows in bulk: new SKUs are inserted, changed ones updated (a price change is recorded in
the price history), unchanged ones are not touched. Departments and categories named in the
file are created when missing. Export writes the same columns, so a round trip is lossless.
"""

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol, TextIO

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils.text import slugify

from ..models import (
    MAX_PRICE,
    SKU_PATTERN,
    SLUG_PATTERN,
    Category,
    Department,
    PriceHistory,
    Product,
)
from . import bulk, pictures
from .changes import publish_changes

COLUMNS = (
    "sku",
    "name",
    "slug",
    "brand",
    "product_type",
    "size",
    "description",
    "image_url",
    "department",
    "department_name",
    "category",
    "category_name",
    "price",
    "currency",
    "active",
    "age_restricted",
    "attributes",
    "image",
)
REQUIRED = ("sku", "name", "category", "price")
FORMATS = ("csv", "jsonl")
TRUE = {"true", "1", "yes", "y", "t"}
FALSE = {"false", "0", "no", "n", "f", ""}
LENGTHS = {
    "name": 200,
    "slug": 220,
    "brand": 100,
    "product_type": 100,
    "size": 50,
    "image_url": 500,
    "department": 60,
    "category": 60,
    "department_name": 100,
    "category_name": 100,
}
_sku = re.compile(SKU_PATTERN)
_slug = re.compile(SLUG_PATTERN)
_url = URLValidator(schemes=["http", "https"])


class TextSink(Protocol):
    """Where export writes: a text file, or a management command's stdout."""

    def write(self, text: str, /) -> object: ...


# (line number, the row's values by column) or (line number, why the line could not be read)
RawRow = tuple[int, dict[str, Any] | str]


class FileFormatError(Exception):
    """The file as a whole cannot be read (unknown format, missing columns, not UTF-8)."""


@dataclass(frozen=True)
class RowError:
    line: int
    sku: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.sku})" if self.sku else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Candidate:
    """A valid row, before categories are resolved to ids."""

    line: int
    sku: str
    name: str
    slug: str
    brand: str
    product_type: str
    size: str
    description: str
    image_url: str
    department: str
    department_name: str
    category: str
    category_name: str
    price: Decimal
    currency: str
    active: bool
    age_restricted: bool
    attributes: dict[str, Any]
    image: Path | None = None


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    price_changes: int = 0
    pictures: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False


def detect_format(path: str | Path, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in FORMATS:
            raise FileFormatError(f"Unknown format {explicit!r}; use csv or jsonl.")
        return explicit
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise FileFormatError(
        f"Cannot tell the format of {path}; name it .csv or .jsonl or pass --format."
    )


# --- reading --------------------------------------------------------------------------------


def read_rows(stream: TextIO, fmt: str) -> Iterator[RawRow]:
    """(line number, raw row) pairs; a row that cannot be parsed comes as an error string."""
    if fmt == "csv":
        yield from _read_csv(stream)
    else:
        yield from _read_jsonl(stream)


def _read_csv(stream: TextIO) -> Iterator[RawRow]:
    reader = csv.DictReader(stream, strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise FileFormatError(f"line 1: not a CSV header: {exc}")
    if not header:
        return
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FileFormatError(f"line 1: the header lacks the column(s) {', '.join(missing)}.")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise FileFormatError(f"line 1: unknown column(s) {', '.join(unknown)}.")
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last_line = reader.line_num
            yield start, f"not valid CSV: {exc}"
            continue
        last_line = reader.line_num
        if None in row:
            yield start, f"{len(header) + len(row[None])} values for {len(header)} columns"
            continue
        if any(v is None for v in row.values()):
            yield start, f"fewer values than the {len(header)} columns"
            continue
        if not any(v.strip() for v in row.values()):
            continue  # a blank line
        yield start, row


def _read_jsonl(stream: TextIO) -> Iterator[RawRow]:
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            yield number, f"not valid JSON: {exc}"
            continue
        except RecursionError:
            yield number, "not valid JSON: nested too deeply"
            continue
        if not isinstance(row, dict):
            yield number, "each line must be a JSON object"
            continue
        unknown = [k for k in row if k not in COLUMNS]
        if unknown:
            yield number, f"unknown field(s) {', '.join(sorted(unknown))}"
            continue
        yield number, row


# --- validating -----------------------------------------------------------------------------


class _Bad(Exception):
    pass


def _text(row: dict[str, Any], name: str, *, required: bool = False, limit: int = 0) -> str:
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise _Bad(f"{name}: is required")
        return ""
    if type(value) is not str:
        raise _Bad(f"{name}: must be text")
    if "\x00" in value:  # PostgreSQL text cannot hold it: one such row would fail the import
        raise _Bad(f"{name}: contains a NUL character")
    value = value.strip()
    if required and not value:
        raise _Bad(f"{name}: is required")
    if limit and len(value) > limit:
        raise _Bad(f"{name}: longer than {limit} characters")
    return value


def _bool(row: dict[str, Any], name: str, default: bool) -> bool:
    value = row.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "":
            return default
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
    raise _Bad(f"{name}: {value!r} is not true or false")


def _price(row: dict[str, Any]) -> Decimal:
    value = row.get("price")
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise _Bad("price: is required")
    if isinstance(value, float):
        raise _Bad("price: write it as a string or a decimal, not a float")
    try:
        price = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise _Bad(f"price: {value!r} is not an amount")
    if not price.is_finite():
        raise _Bad(f"price: {value!r} is not an amount")
    if price <= 0:
        raise _Bad(f"price: {value} must be above zero")
    if price > MAX_PRICE:
        raise _Bad(f"price: {value} is above {MAX_PRICE}")
    if price != price.quantize(Decimal("0.01")):
        raise _Bad(f"price: {value} has more than 2 decimal places")
    return price.quantize(Decimal("0.01"))


def _attributes(row: dict[str, Any]) -> dict[str, Any]:
    value = row.get("attributes")
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _Bad("attributes: not valid JSON")
        except RecursionError:
            raise _Bad("attributes: nested too deeply")
    if not isinstance(value, dict):
        raise _Bad("attributes: must be a JSON object")
    plain: dict[str, Any] = _plain(value)
    return plain


MAX_ATTRIBUTE_DEPTH = 8  # attributes are a product's facts: deeper is a mistake or an attack


def _plain(value: Any, depth: int = 0) -> Any:
    """JSON Lines numbers are read as Decimal (for prices); attributes keep plain numbers."""
    if depth > MAX_ATTRIBUTE_DEPTH:
        raise _Bad(f"attributes: nested more than {MAX_ATTRIBUTE_DEPTH} levels deep")
    if isinstance(value, dict):
        return {_plain(str(k), depth + 1): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, str) and "\x00" in value:  # jsonb cannot hold \u0000
        raise _Bad("attributes: contains a NUL character")
    if isinstance(value, Decimal) and value.is_finite():
        if value == value.to_integral_value() and "." not in str(value):
            return int(value)
        value = float(value)
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise _Bad("attributes: numbers must be finite (no NaN or Infinity)")
    return value


def _image(row: dict[str, Any], images_dir: Path | None) -> Path | None:
    name = _text(row, "image", limit=255)
    if not name:
        return None
    if images_dir is None:
        raise _Bad("image: no images folder given")
    path = (images_dir / name).resolve()
    if not path.is_relative_to(images_dir.resolve()):
        raise _Bad(f"image: {name!r} is outside the images folder")
    try:
        pictures.picture_check(path.read_bytes())
    except OSError as exc:
        raise _Bad(f"image: cannot read {name!r} ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise _Bad(f"image: {name!r} is {exc}") from None
    return path


def validate(line: int, row: dict[str, Any], images_dir: Path | None = None) -> Candidate:
    sku = _text(row, "sku", required=True)
    if not _sku.match(sku):
        raise _Bad(f"sku: {sku!r} must be 2-32 capital letters, digits or dashes (e.g. PN-000123)")
    name = _text(row, "name", required=True, limit=LENGTHS["name"])
    slug = _text(row, "slug", limit=LENGTHS["slug"]) or slugify(name)[: LENGTHS["slug"]].strip("-")
    if not _slug.match(slug):
        raise _Bad(f"slug: {slug!r} must be lowercase words joined by dashes")
    image_url = _text(row, "image_url", limit=LENGTHS["image_url"])
    if image_url:
        try:
            _url(image_url)
        except DjangoValidationError:
            raise _Bad(f"image_url: {image_url!r} is not an http(s) URL")
    currency = _text(row, "currency") or settings.CURRENCY
    if currency != settings.CURRENCY:
        raise _Bad(f"currency: this store sells in {settings.CURRENCY}, not {currency!r}")
    category = _text(row, "category", required=True, limit=LENGTHS["category"])
    department = _text(row, "department", limit=LENGTHS["department"])
    for label, value in (("category", category), ("department", department)):
        if value and not _slug.match(value):
            raise _Bad(f"{label}: {value!r} is not a slug")
    return Candidate(
        line=line,
        sku=sku,
        name=name,
        slug=slug,
        brand=_text(row, "brand", limit=LENGTHS["brand"]),
        product_type=_text(row, "product_type", limit=LENGTHS["product_type"]),
        size=_text(row, "size", limit=LENGTHS["size"]),
        description=_text(row, "description"),
        image_url=image_url,
        department=department,
        department_name=_text(row, "department_name", limit=LENGTHS["department_name"]),
        category=category,
        category_name=_text(row, "category_name", limit=LENGTHS["category_name"]),
        price=_price(row),
        currency=currency,
        active=_bool(row, "active", True),
        age_restricted=_bool(row, "age_restricted", False),
        attributes=_attributes(row),
        image=_image(row, images_dir),
    )


# --- importing ------------------------------------------------------------------------------


def _as_is(rows: Iterable[RawRow]) -> Iterable[RawRow]:
    return rows


def catalog_import(
    *,
    rows: Iterable[RawRow],
    dry_run: bool = False,
    progress: Callable[[Iterable[RawRow]], Iterable[RawRow]] = _as_is,
    images_dir: Path | None = None,
) -> ImportReport:
    """Validate every row, then upsert the good ones (unless dry_run) in one transaction;
    then store the pictures their `image` column names (files in images_dir)."""
    report = ImportReport(dry_run=dry_run)
    candidates: dict[str, Candidate] = {}
    for line, raw in progress(rows):
        report.rows += 1
        if isinstance(raw, str):
            report.errors.append(RowError(line, "", raw))
            continue
        try:
            candidate = validate(line, raw, images_dir)
        except _Bad as exc:
            sku = raw.get("sku") if isinstance(raw.get("sku"), str) else ""
            report.errors.append(RowError(line, (sku or "").strip(), str(exc)))
            continue
        earlier = candidates.get(candidate.sku)
        if earlier is not None:
            report.errors.append(
                RowError(line, candidate.sku, f"sku: already on line {earlier.line}")
            )
            continue
        candidates[candidate.sku] = candidate

    with transaction.atomic():
        _serialize_imports()
        categories, rejected = _resolve_categories(candidates.values(), report, create=not dry_run)
        good = [c for c in candidates.values() if c.sku not in rejected]
        _upsert(good, categories, report, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run:
        bulk.after_write(report.created + report.updated)
        for cand in good:
            if cand.image is not None:
                pictures.picture_store(sku=cand.sku, image=cand.image.read_bytes())
                report.pictures += 1
    report.errors.sort(key=lambda e: e.line)
    return report


IMPORT_LOCK = 0x0CA7A106  # any constant: the PostgreSQL advisory lock key of catalog imports


def _serialize_imports() -> None:
    """One import writes at a time (until its transaction ends): an import's created /
    updated / unchanged and price-history decisions rest on the rows it read."""
    # Kept hand-written for correctness: the ORM has no advisory lock.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])


def _resolve_categories(
    candidates: Iterable[Candidate], report: ImportReport, *, create: bool
) -> tuple[dict[str, Category], set[str]]:
    """The categories the rows name, by slug (creating missing ones the file describes), and
    the SKUs of rows left out: an unknown category without a name to create it from, or a
    category said to be in another department than the one it is in (both reported).
    """
    tree = _Tree(create=create)
    resolved: dict[str, Category] = {}
    rejected: set[str] = set()
    for cand in candidates:
        try:
            resolved[cand.category] = tree.category_for(cand)
        except _Bad as exc:
            report.errors.append(RowError(cand.line, cand.sku, str(exc)))
            rejected.add(cand.sku)
    return resolved, rejected


class _Tree:
    """The departments and categories known so far, growing as rows describe new ones."""

    def __init__(self, *, create: bool) -> None:
        self.create = create
        self.categories = {c.slug: c for c in Category.objects.select_related("department")}
        self.departments = {d.slug: d for d in Department.objects.all()}

    def category_for(self, cand: Candidate) -> Category:
        slug = cand.category
        category = self.categories.get(slug)
        if category is not None:
            if cand.department and category.department.slug != cand.department:
                raise _Bad(
                    f"category: {slug!r} is in department {category.department.slug!r}, "
                    f"not {cand.department!r}"
                )
            return category
        if not (cand.department and cand.category_name):
            raise _Bad(
                f"category: unknown category {slug!r} (give department and category_name "
                "to create it)"
            )
        department = self._department_for(cand)
        category = Category(
            department=department,
            slug=slug,
            name=cand.category_name,
            position=sum(
                1 for c in self.categories.values() if c.department.slug == department.slug
            ),
        )
        if self.create:
            category.save()
        else:
            category.path = f"{department.slug}/{slug}"
        self.categories[slug] = category
        return category

    def _department_for(self, cand: Candidate) -> Department:
        department = self.departments.get(cand.department)
        if department is not None:
            return department
        if not cand.department_name:
            raise _Bad(
                f"department: unknown department {cand.department!r} (give "
                "department_name to create it)"
            )
        department = Department(
            slug=cand.department, name=cand.department_name, position=len(self.departments)
        )
        if self.create:
            department.save()
        self.departments[department.slug] = department
        return department


def _row(cand: Candidate, category: Category) -> bulk.Row:
    return bulk.Row(
        sku=cand.sku,
        name=cand.name,
        slug=cand.slug,
        brand=cand.brand,
        product_type=cand.product_type,
        size=cand.size,
        description=cand.description,
        image_url=cand.image_url,
        category_id=category.id if category.id is not None else -1,
        department_id=category.department_id if category.department_id is not None else -1,
        price=cand.price,
        currency=cand.currency,
        active=cand.active,
        age_restricted=cand.age_restricted,
        attributes=cand.attributes,
    )


def _upsert(
    candidates: list[Candidate],
    categories: dict[str, Category],
    report: ImportReport,
    *,
    dry_run: bool,
) -> None:
    existing = _existing([c.sku for c in candidates])
    writes: list[bulk.Row] = []
    price_moves: list[PriceHistory] = []
    for cand in candidates:
        row = _row(cand, categories[cand.category])
        current = existing.get(cand.sku)
        if current is None:
            report.created += 1
        elif current[1] == row.values():
            report.unchanged += 1
            continue
        else:
            report.updated += 1
            product_id, values = current
            old_price = values[bulk.FIELDS.index("price")]
            if old_price != cand.price:
                price_moves.append(
                    PriceHistory(
                        product_id=product_id,
                        old_price=old_price,
                        new_price=cand.price,
                        currency=cand.currency,
                        source="import",
                    )
                )
        writes.append(row)
    report.price_changes = len(price_moves)
    if dry_run:
        return
    ids = bulk.upsert(writes)
    PriceHistory.objects.bulk_create(price_moves, batch_size=bulk.BATCH)
    publish_changes(product_ids=ids.values(), price_ids=[h.product_id for h in price_moves])


def _existing(skus: list[str]) -> dict[str, tuple[int, tuple[Any, ...]]]:
    """Current values of these products, in bulk.FIELDS order, by SKU."""
    wanted = set(skus)
    if not wanted:
        return {}
    rows = Product.objects.values_list("id", *bulk.FIELDS)
    if len(wanted) < 1000:
        rows = rows.filter(sku__in=wanted)
    # else most of the table: reading it all is 3x cheaper than a filter naming every SKU
    found: dict[str, tuple[int, tuple[Any, ...]]] = {}
    for product_id, *values in rows.iterator(chunk_size=5000):
        if values[0] in wanted:
            found[values[0]] = (product_id, tuple(values))
    return found


# --- exporting ------------------------------------------------------------------------------


def export_rows() -> Iterator[dict[str, Any]]:
    """Every product (active or not) by SKU, with its department and category."""
    categories = {c.id: c for c in Category.objects.select_related("department")}
    for values in Product.objects.order_by("sku").values_list(*bulk.FIELDS).iterator(5000):
        row = dict(zip(bulk.FIELDS, values, strict=True))
        category = categories[row.pop("category_id")]
        row.pop("department_id")
        row["department"] = category.department.slug
        row["department_name"] = category.department.name
        row["category"] = category.slug
        row["category_name"] = category.name
        row["image"] = ""
        yield {column: row[column] for column in COLUMNS}


def write_rows(rows: Iterable[dict[str, Any]], stream: TextSink, fmt: str) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **row,
                    "price": f"{row['price']:.2f}",
                    "active": "true" if row["active"] else "false",
                    "age_restricted": "true" if row["age_restricted"] else "false",
                    "attributes": json.dumps(row["attributes"], sort_keys=True)
                    if row["attributes"]
                    else "",
                }
            )
            count += 1
    else:
        for row in rows:
            record = {**row, "price": f"{row['price']:.2f}"}
            stream.write(json.dumps(record, sort_keys=False, ensure_ascii=False) + "\n")
            count += 1
    return count


def open_text(path: str | Path) -> io.TextIOWrapper:
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise FileFormatError(f"Cannot open {path}: {exc.strerror}")
