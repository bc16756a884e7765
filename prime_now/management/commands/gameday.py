"""`manage.py gameday SCENARIO`: run a game day scenario (gamedays/*.yaml) against a running
stack on a loopback address and write its report (Markdown and PNG charts)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from prime_now.gameday import report, runner
from prime_now.gameday.load import NotLoopbackError, Recorder, check_loopback
from prime_now.gameday.scenario import ScenarioError, load

SCENARIOS = Path(settings.BASE_DIR) / "gamedays"


class Command(BaseCommand):
    help = "Run a game day scenario against a running stack (loopback only) and report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("scenario", help="a file, or a name under gamedays/ (slow-fulfillment)")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--out", default=str(SCENARIOS / "reports"))
        parser.add_argument("--max-requests", type=int, default=20_000)
        parser.add_argument("--list", action="store_true", help="list the shipped scenarios")

    def handle(self, *args: object, **options: Any) -> None:
        name = str(options["scenario"])
        path = Path(name)
        if not path.exists():
            path = SCENARIOS / f"{name.removesuffix('.yaml')}.yaml"
        try:
            scenario = load(path)
            base = check_loopback(str(options["base_url"]))
        except (ScenarioError, NotLoopbackError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Game day {scenario.name} against {base}: {scenario.description}")
        with tqdm(total=round(scenario.seconds), unit="s", file=self.stderr) as bar:

            def tick(seconds: float, recorder: Recorder) -> None:
                bar.update(seconds)
                bar.set_postfix(requests=len(recorder.samples))

            try:
                outcome = runner.run(
                    scenario,
                    base,
                    max_requests=int(options["max_requests"]),
                    tick=tick,
                )
            except OSError as exc:
                raise CommandError(f"Is the stack running at {base}? {exc}") from exc
        folder = report.write(outcome, Path(str(options["out"])))
        for text, value, held in outcome.verdicts:
            self.stdout.write(f"  {'held  ' if held else 'BROKEN'}  {text}: {value}")
        self.stdout.write(f"Report: {folder / 'report.md'}")
        if not outcome.held:
            raise CommandError(f"{scenario.name}: a hypothesis broke (see the report)")
