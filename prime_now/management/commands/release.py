import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prime_now.release.canary import Limits
from prime_now.release.tool import Options, ReleaseFailed, Releaser


class Command(BaseCommand):
    help = (
        "Releases a git ref as a canary behind HAProxy and promotes it or rolls it back on its "
        "own (`release REF`); `--rollback` goes back to the previous version at once; "
        '`--status`, `--stop`. docs/operations.md, "Releases".'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ref", nargs="?", help="a git ref (tag, branch, commit) to release")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--rollback", action="store_true", help="back to the previous version")
        action.add_argument("--status", action="store_true", help="what runs, as JSON")
        action.add_argument("--stop", action="store_true", help="stop everything it started")
        parser.add_argument("--force", action="store_true", help="roll back past contract steps")
        parser.add_argument("--repo", default=str(settings.BASE_DIR), help="the git repository")
        env = os.environ.get
        parser.add_argument(
            "--port",
            type=int,
            default=int(env("RELEASE_PORT", "8080")),
            help="HAProxy's port; the versions use the next two (8080)",
        )
        parser.add_argument(
            "--run-dir", default=env("RELEASE_RUN_DIR", str(settings.RUN_DIR / "release"))
        )
        parser.add_argument(
            "--share",
            type=int,
            default=int(env("RELEASE_CANARY_SHARE", "10")),
            help="the canary's share of the traffic, percent (10)",
        )
        parser.add_argument(
            "--watch",
            type=float,
            default=float(env("RELEASE_WATCH_SECONDS", "120")),
            help="seconds the canary is watched before promotion (120)",
        )
        parser.add_argument(
            "--max-error-rate", type=float, default=0.01, help="5xx per request (0.01)"
        )
        parser.add_argument("--max-p99", type=float, default=1.0, help="seconds (1.0)")
        parser.add_argument(
            "--min-requests",
            type=int,
            default=int(env("RELEASE_MIN_REQUESTS", "20")),
            help="fewer requests in the watch: nothing to judge, roll back (20)",
        )
        parser.add_argument("--web-workers", type=int, default=int(env("WEB_CONCURRENCY", "2")))
        parser.add_argument("--worker-timeout", type=float, default=60.0,
                            help="seconds an old worker has to finish its tasks (60)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        limits = Limits(
            seconds=options["watch"],
            share=options["share"],
            max_error_rate=options["max_error_rate"],
            max_p99=options["max_p99"],
            min_requests=options["min_requests"],
        )
        releaser = Releaser(
            Options(
                run_dir=Path(options["run_dir"]),
                port=options["port"],
                limits=limits,
                web_workers=options["web_workers"],
                worker_timeout=options["worker_timeout"],
            ),
            say=lambda line: self.stdout.write(line),
        )
        try:
            if options["status"]:
                self.stdout.write(json.dumps(releaser.status(), indent=2))
            elif options["stop"]:
                releaser.stop()
            elif options["rollback"]:
                releaser.rollback(force=options["force"])
            elif options["ref"]:
                releaser.release(Path(options["repo"]), options["ref"])
            else:
                raise CommandError("Name a ref to release, or --rollback, --status, --stop.")
        except ReleaseFailed as failure:
            raise CommandError(str(failure))
