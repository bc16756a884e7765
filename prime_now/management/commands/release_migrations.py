import json
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prime_now.release.migrations import UnsafePlan, before_switch, pending


class Command(BaseCommand):
    help = (
        "The release tool's migrations: `expand` runs what the running release survives (all "
        "but contract steps), before the switch; `contract` runs the rest, after it. Prints "
        "the applied and the deferred migrations as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("phase", choices=["expand", "contract"])

    def handle(self, *args: Any, **options: Any) -> None:
        plan = everything = pending()
        if options["phase"] == "expand":
            try:
                plan = before_switch(everything)
            except UnsafePlan as error:
                raise CommandError(str(error))
        # Per app, migrate to the last migration of this phase (its dependencies come along;
        # by before_switch none of them is a contract step).
        targets: dict[str, str] = {}
        for migration in plan:
            targets[migration.app_label] = migration.name
        for app, name in targets.items():
            call_command("migrate", app, name, interactive=False, verbosity=0)
        names = [f"{m.app_label}.{m.name}" for m in everything]
        applied = [f"{m.app_label}.{m.name}" for m in plan]
        deferred = [name for name in names if name not in applied]
        self.stdout.write(json.dumps({"applied": applied, "deferred": deferred}))
