"""`manage.py lever list|pull|restore`: the levers from a shell (the admin does the same)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prime_now.kernel.levers import UnknownLeverError, declared, lever_set, lever_states


class Command(BaseCommand):
    help = "List the levers, or pull (shed the feature) / restore one, with a reason."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every declared lever, its state and what it sheds")
        for action in ("pull", "restore"):
            one = sub.add_parser(action)
            one.add_argument("name")
            one.add_argument("--reason", required=True, help="kept in the lever's history")

    def handle(self, *args: object, action: str, **options: str) -> None:
        if action == "list":
            states = lever_states() or {}
            for name, spec in sorted(declared().items()):
                state = "on " if states.get(name, spec.default) else "OFF"
                self.stdout.write(f"{state}  {name:32} {spec.criticality:6} {spec.sheds}")
            return
        try:
            changed = lever_set(
                options["name"], enabled=action == "restore", reason=options["reason"]
            )
        except UnknownLeverError as exc:
            raise CommandError(f"No lever named {exc}; see `manage.py lever list`.") from exc
        verb = "pulled" if action == "pull" else "restored"
        self.stdout.write(f"{options['name']} {verb}." if changed else "Nothing to change.")
