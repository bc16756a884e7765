"""A cycle count: `import_stock HUB FILE` sets on-hand for each SKU in a CSV file.

FILE is CSV with a header: `sku,on_hand` and optionally `aisle,bin,low_stock_threshold`.
Each change is one "adjusted" ledger movement (a matching count writes nothing), so running
the same file twice changes nothing the second time. Bad rows are reported with their line
number and skipped; the command then exits non-zero. Good rows are applied.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog import services as catalog
from fulfillment import services
from prime_now.kernel.errors import ApplicationError

from ._progress import progress

REQUIRED = {"sku", "on_hand"}


@dataclass(frozen=True)
class Row:
    line: int
    sku: str
    on_hand: int
    aisle: str
    bin: str


class Command(BaseCommand):
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
            reader = csv.DictReader(handle)
            missing = REQUIRED - set(reader.fieldnames or ())
            if missing:
                raise CommandError(
                    f"{file}: header must have {sorted(REQUIRED)}; missing {sorted(missing)}"
                )
            for record in reader:
                line = reader.line_num
                sku = (record.get("sku") or "").strip()
                raw = (record.get("on_hand") or "").strip()
                if not sku:
                    errors.append(f"line {line}: missing sku")
                    continue
                if not raw.isdigit():
                    errors.append(f"line {line}: on_hand must be a whole number ≥ 0, got {raw!r}")
                    continue
                if sku in seen:
                    errors.append(f"line {line}: {sku} already counted on line {seen[sku]}")
                    continue
                seen[sku] = line
                rows.append(
                    Row(
                        line=line,
                        sku=sku,
                        on_hand=int(raw),
                        aisle=(record.get("aisle") or "").strip()[:16],
                        bin=(record.get("bin") or "").strip()[:16],
                    )
                )
        return rows, errors
