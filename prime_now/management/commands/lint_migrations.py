from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prime_now.release.migration_lint import lint


class Command(BaseCommand):
    help = (
        "Refuses migrations the previous release would not survive (dropped or renamed columns "
        "and tables, NOT NULL without a database default, ...) or that lock a hot table "
        "(indexes without CONCURRENTLY). Contract steps of an expand/contract pair may drop."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "migrations", nargs="*", metavar="APP.NAME", help="only these (default: all new)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        only = [tuple(name.split(".", 1)) for name in options["migrations"]] or None
        findings = lint(only)  # type: ignore[arg-type]
        for finding in findings:
            self.stderr.write(str(finding))
        if findings:
            raise CommandError(
                f"{len(findings)} unsafe migration finding(s): see docs/operations.md, "
                '"Migrations that old code survives".'
            )
        self.stdout.write("Migrations: every new one is safe for the running release.")
