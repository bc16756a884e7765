"""import_catalog FILE: upsert products by SKU from CSV or JSON Lines (services.importing)."""

import sys
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from catalog.services import importing
from prime_now.kernel.batch import SingleRunCommand, undecodable_line


class Command(SingleRunCommand):
    help = (
        "Import products from a CSV or JSON Lines file (upsert by SKU). Every bad row is "
        "reported with its line number; the good rows are imported (running the fixed file "
        "again changes only what is new); exits 1 if any row was bad. One run at a time."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=importing.FORMATS, help="Default: by extension.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Only validate and report; write nothing."
        )
        parser.add_argument(
            "--images",
            help="Folder of the picture files the `image` column names (default: the file's).",
        )

    def handle(
        self,
        *args,
        file: str,
        format: str | None = None,
        dry_run: bool = False,
        images: str | None = None,
        **opts,
    ):
        path = Path(file)
        where = undecodable_line(path) if path.is_file() else None
        if where:
            raise CommandError(f"{file}: {where}: not UTF-8 text; nothing was imported")
        try:
            fmt = importing.detect_format(file, format)
            with importing.open_text(file) as stream:
                show = sys.stderr.isatty() and opts.get("verbosity", 1) > 0

                def progress(rows):
                    return tqdm(rows, desc="rows", unit=" rows", disable=not show, leave=False)

                report = importing.catalog_import(
                    rows=importing.read_rows(stream, fmt),
                    dry_run=dry_run,
                    progress=progress,
                    images_dir=Path(images) if images else Path(file).resolve().parent,
                )
        except importing.FileFormatError as exc:
            raise CommandError(str(exc))
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text: {exc}")
        for error in report.errors:
            self.stderr.write(f"{file}: {error}")
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{report.rows} rows read: {report.created} {verb} created, {report.updated} "
            f"{verb} updated ({report.price_changes} price changes), {report.unchanged} "
            f"unchanged, {len(report.errors)} bad; {report.pictures} pictures stored."
        )
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} bad row(s) in {file}"
                + ("" if dry_run else "; the good rows were imported."),
                returncode=1,
            )
