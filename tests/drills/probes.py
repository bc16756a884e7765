"""Test-only events the drills' workers load with `--include tests.drills.probes`.

SlowProbed: the first run of its handler records its process id and sleeps (a long task, for
killing its worker mid-way); every run writes one row in the handler's transaction, so a row
exists once the work completed and "once" is checked by counting rows.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from prime_now.kernel.bus import Event, subscribe
from prime_now.kernel.models import Lever


@dataclass(frozen=True)
class SlowProbed(Event):
    probe_id: str
    seconds: float = 30.0


def _marker(probe_id: str) -> Path:
    return Path(os.environ["DRILL_DIR"]) / f"{probe_id}.pid"


def on_slow_probed(event: SlowProbed) -> None:
    marker = _marker(event.probe_id)
    first_run = not marker.exists()
    marker.write_text(str(os.getpid()))
    if first_run:
        time.sleep(event.seconds)
    Lever.objects.create(name=f"drill-{event.probe_id}", description=f"pid {os.getpid()}")


subscribe(SlowProbed, on_slow_probed)


def running_pid(probe_id: str) -> int | None:
    """The process running the probe's handler, once it started."""
    marker = _marker(probe_id)
    return int(marker.read_text()) if marker.exists() and marker.read_text() else None


def done(probe_id: str) -> int:
    return Lever.objects.filter(name=f"drill-{probe_id}").count()
