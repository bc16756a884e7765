"""List dead letters, or send them again: `manage.py dead_letters [--all] [--replay ID ... |
--replay-open]`."""

from typing import Any

from django.core.management.base import CommandParser

from prime_now.kernel import deadletters
from prime_now.kernel.batch import SingleRunCommand
from prime_now.kernel.models import DeadLetter


class Command(SingleRunCommand):
    help = "List the dead letters not replayed yet (--all: every one), or replay them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="list replayed ones too")
        parser.add_argument("--replay", nargs="+", type=int, metavar="ID", help="replay these")
        parser.add_argument("--replay-open", action="store_true", help="replay every open one")

    def handle(self, *args: Any, **options: Any) -> None:
        letters = DeadLetter.objects.all()
        if not options["all"]:
            letters = letters.filter(replayed_at__isnull=True)
        if options["replay"] or options["replay_open"]:
            chosen = letters if options["replay_open"] else letters.filter(pk__in=options["replay"])
            count = deadletters.replay(chosen)
            self.stdout.write(self.style.SUCCESS(f"Replayed {count} dead letter(s)."))
            return
        for letter in letters.order_by("created_at"):
            replayed = (
                f" replayed {letter.replayed_at:%Y-%m-%d %H:%M}" if letter.replayed_at else ""
            )
            self.stdout.write(
                f"{letter.pk}\t{letter.created_at:%Y-%m-%d %H:%M:%S}\t{letter.kind}\t{letter.name}"
                f"\t{letter.attempts} attempts\t{letter.last_error[:100]}{replayed}"
            )
        self.stdout.write(f"{letters.count()} dead letter(s).")
