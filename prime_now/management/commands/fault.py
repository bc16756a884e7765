"""`manage.py fault add|list|clear`: inject faults for a game day or a drill (kernel/faults.py)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from prime_now.kernel.errors import ApplicationError
from prime_now.kernel.faults import FaultKind, FaultTarget, fault_add, fault_clear
from prime_now.kernel.models import Fault


class Command(BaseCommand):
    help = "Inject a fault at a door or dependency, list the faults, or clear them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="inject a fault (it expires by itself)")
        add.add_argument("target", choices=[t.value for t in FaultTarget])
        add.add_argument("--kind", choices=[k.value for k in FaultKind], default="error")
        add.add_argument("--ms", type=int, default=0, help="latency, or how long a timeout hangs")
        add.add_argument("--share", type=float, default=1.0, help="share of calls hit (0-1]")
        add.add_argument("--hub", default="", help="only calls for this hub")
        add.add_argument("--minutes", type=float, default=10, help="expires after (default 10)")
        add.add_argument("--reason", required=True, help="why (kept with the fault)")
        listing = sub.add_parser("list", help="the active faults (--all: the history too)")
        listing.add_argument("--all", action="store_true")
        clear = sub.add_parser("clear", help="clear one fault by id, or every active one")
        clear.add_argument("id", nargs="?", type=int)

    def handle(self, *args: object, action: str, **options: object) -> None:
        if action == "add":
            try:
                spec = fault_add(
                    target=str(options["target"]),
                    kind=str(options["kind"]),
                    latency_ms=int(options["ms"]),  # type: ignore[call-overload]
                    share=float(options["share"]),  # type: ignore[arg-type]
                    hub_code=str(options["hub"]),
                    minutes=float(options["minutes"]),  # type: ignore[arg-type]
                    reason=str(options["reason"]),
                )
            except ApplicationError as exc:
                raise CommandError(f"{exc.message} {exc.fields or ''}".strip()) from exc
            self.stdout.write(f"Fault {spec.id} injected until {spec.expires_at:%H:%M:%S}.")
        elif action == "list":
            rows = Fault.objects.all()
            if not options["all"]:
                rows = rows.filter(cleared_at__isnull=True, expires_at__gt=timezone.now())
            for fault in rows:
                state = "active " if fault.active else "cleared" if fault.cleared_at else "expired"
                self.stdout.write(f"{fault.pk:>5} {state} {fault} · {fault.reason}")
        else:
            cleared = fault_clear(fault_id=options["id"])  # type: ignore[arg-type]
            self.stdout.write(f"{cleared} fault(s) cleared.")
