"""A cycle count: `import_stock HUB FILE` sets on-hand for each SKU in a CSV file.

FILE is CSV with a header: `sku,on_hand` and optionally `aisle,bin,low_stock_threshold`.
Each change is one "adjusted" ledger movement (a matching count writes nothing), so running
the same file twice changes nothing the second time, and a run that stopped half-way is
finished by running it again. Bad rows (whatever the input: Unicode digits, numbers too big,
broken CSV) are reported with their line number, field and reason and skipped; the command
then exits non-zero, the good rows applied. A file that is not UTF-8 CSV with the header is
refused before anything is applied. One run at a time (a second one exits "already running").
"""

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import CommandError

from catalog import services as catalog
from fulfillment import services
from prime_now.kernel.batch import SingleRunCommand, undecodable_line
from prime_now.kernel.errors import ApplicationError

from ._progress import progress

REQUIRED = {"sku", "on_hand"}
WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")  # ASCII digits only: "²" or "٣" is not a count
MAX_ON_HAND = services.MAX_ON_HAND
MAX_SKU = 64


@dataclass(frozen=True)
class Row:
    line: int
    sku: str
    on_hand: int
    aisle: str
    bin: str


class Command(SingleRunCommand):
    help = "Cycle count: set on-hand for each SKU at HUB from a CSV file (through the ledger)."

    def add_arguments(self, parser):
        parser.add_argument("hub", help="hub code, e.g. sea-downtown")
        parser.add_argument("file", type=Path, help="CSV with columns sku,on_hand[,aisle,bin]")

    def handle(self, *args, hub: str, file: Path, **options):
        try:
            services.hub_get(code=hub)
        except ApplicationError as exc:
            raise CommandError(f"{hub}: {exc.message}")
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        where = undecodable_line(file)
        if where:
            raise CommandError(f"{file}: {where}: not UTF-8 text; nothing was applied")
        rows, errors = self._parse(file)
        products = {}
        skus = sorted({row.sku for row in rows})
        for start in range(0, len(skus), 1000):
            products.update(catalog.products_by_skus(skus=skus[start : start + 1000]))
        changed = unchanged = 0
        for row in progress(rows, total=len(rows), desc=f"counting {hub}", stream=self.stderr):
            product = products.get(row.sku)
            if product is None:
                errors.append(f"line {row.line}: unknown SKU {row.sku!r}")
                continue
            try:
                delta = services.stock_count(
                    hub_code=hub,
                    product_id=product.id,
                    sku=product.sku,
                    name=product.name,
                    counted=row.on_hand,
                    aisle=row.aisle,
                    bin=row.bin,
                    reason=f"cycle count ({file.name})",
                    reference=file.name[:64],
                )
            except ApplicationError as exc:
                errors.append(f"line {row.line}: {row.sku}: {exc.message}")
                continue
            if delta:
                changed += 1
            else:
                unchanged += 1
        self.stdout.write(f"{changed} adjusted, {unchanged} already right, {len(errors)} bad rows")
        for error in errors:
            self.stderr.write(error)
        if errors:
            raise CommandError(f"{len(errors)} bad row(s) in {file}", returncode=2)

    def _parse(self, file: Path) -> tuple[list[Row], list[str]]:
        rows: list[Row] = []
        errors: list[str] = []
        seen: dict[str, int] = {}
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, strict=True)
            try:
                header = reader.fieldnames
            except csv.Error as exc:
                raise CommandError(f"{file}: line 1: not a CSV header ({exc}); nothing was applied")
            missing = REQUIRED - set(header or ())
            if missing:
                raise CommandError(
                    f"{file}: header must have {sorted(REQUIRED)}; missing {sorted(missing)}"
                )
            for line, record in _records(reader, errors):
                row = _row(line, record, seen, errors)
                if row is not None:
                    rows.append(row)
        return rows, errors


def _records(reader: csv.DictReader, errors: list[str]):
    """(line, record) for each CSV record; a record the CSV reader refuses is reported."""
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(f"line {line}: not valid CSV: {exc}")
            continue
        if None in record:
            errors.append(f"line {line}: more values than columns")
            continue
        yield line, record


def _row(line: int, record: dict, seen: dict[str, int], errors: list[str]) -> Row | None:
    sku = (record.get("sku") or "").strip()
    raw = (record.get("on_hand") or "").strip()
    if not sku:
        errors.append(f"line {line}: sku: missing")
    elif len(sku) > MAX_SKU:
        errors.append(f"line {line}: sku: longer than {MAX_SKU} characters")
    elif not WHOLE_NUMBER.fullmatch(raw):
        errors.append(f"line {line}: on_hand: must be a whole number ≥ 0, got {raw[:40]!r}")
    elif int(raw) > MAX_ON_HAND:
        errors.append(f"line {line}: on_hand: {raw} is more than {MAX_ON_HAND}")
    elif sku in seen:
        errors.append(f"line {line}: {sku} already counted on line {seen[sku]}")
    else:
        seen[sku] = line
        return Row(
            line=line,
            sku=sku,
            on_hand=int(raw),
            aisle=(record.get("aisle") or "").strip()[:16],
            bin=(record.get("bin") or "").strip()[:16],
        )
    return None
