"""export_catalog FILE: every product, in the format import_catalog reads (lossless)."""

from django.core.management.base import CommandError

from catalog.services import importing
from prime_now.kernel.batch import SingleRunCommand


class Command(SingleRunCommand):
    help = "Export all products (active or not) to a CSV or JSON Lines file, ordered by SKU."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write; '-' writes CSV/JSONL to stdout.")
        parser.add_argument("--format", choices=importing.FORMATS, help="Default: by extension.")

    def handle(self, *args, file: str, format: str | None = None, **options):
        try:
            fmt = format or ("csv" if file == "-" else importing.detect_format(file))
        except importing.FileFormatError as exc:
            raise CommandError(str(exc))
        if file == "-":
            count = importing.write_rows(importing.export_rows(), self.stdout, fmt)
            return
        try:
            with open(file, "w", encoding="utf-8", newline="") as stream:
                count = importing.write_rows(importing.export_rows(), stream, fmt)
        except OSError as exc:
            raise CommandError(f"Cannot write {file}: {exc.strerror}")
        self.stdout.write(f"{count} products written to {file}.")
