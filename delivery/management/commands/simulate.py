"""Play pickers and couriers until stopped, so orders get picked, packed and delivered."""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from ...transport.simulator import Simulator

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Simulate pickers and couriers (demo / load test). Runs until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One tick, then exit.")
        parser.add_argument("--seconds", type=float, default=None, help="Stop after this long.")
        parser.add_argument("--tick", type=float, default=2.0, help="Seconds between ticks.")
        parser.add_argument("--speed-kmh", type=float, default=25.0, help="Courier speed.")
        parser.add_argument("--hub", action="append", default=[], help="Only these hubs.")
        parser.add_argument("--couriers", type=int, default=None, help="At most this many.")
        parser.add_argument("--no-pickers", action="store_true", help="Couriers only.")
        parser.add_argument(
            "--substitute-every",
            type=int,
            default=0,
            help="Pickers substitute every Nth line that allows it (1: all, 0: none).",
        )

    def handle(self, *args, **opts):
        if opts["speed_kmh"] <= 0 or opts["tick"] <= 0:
            self.stderr.write("--speed-kmh and --tick must be positive")
            raise SystemExit(2)
        sim = Simulator(
            speed_kmh=opts["speed_kmh"],
            hub_codes=tuple(opts["hub"]),
            couriers=opts["couriers"],
            pick=not opts["no_pickers"],
            substitute_every=max(0, opts["substitute_every"]),
        )
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        started = time.monotonic()
        totals = {"packed": 0, "accepted": 0, "delivered": 0}
        try:
            while not stop["now"]:
                began = time.monotonic()
                try:
                    report = sim.tick()
                except Exception:
                    # A service down (a game day, a drill) fails one tick, not the simulator
                    # (which `make run` would take as the stack's end).
                    logger.exception("simulator: a tick failed; trying again next tick")
                    close_old_connections()
                    if opts["once"]:
                        raise
                    report = None
                for key in totals:
                    totals[key] += getattr(report, key, 0)
                if report is not None and (report.busy() or report.errors):
                    self.stdout.write(
                        f"packed {report.packed}, accepted {report.accepted}, "
                        f"delivered {report.delivered}, moving {report.moved}"
                        + (
                            f"; {len(report.errors)} refused: {report.errors[:3]}"
                            if report.errors
                            else ""
                        )
                    )
                if opts["once"]:
                    break
                if opts["seconds"] is not None and time.monotonic() - started >= opts["seconds"]:
                    break
                time.sleep(max(0.0, opts["tick"] - (time.monotonic() - began)))
        except KeyboardInterrupt:
            pass
        self.stdout.write(
            f"simulator stopped: packed {totals['packed']}, accepted {totals['accepted']}, "
            f"delivered {totals['delivered']}"
        )
