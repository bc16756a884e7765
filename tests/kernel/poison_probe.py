"""A test-only event whose handler fails while `POISONED` says so (a poison event). A real
worker (the fault drills) loads it with `--include`."""

import os
from dataclasses import dataclass

from prime_now.kernel.bus import Event, subscribe
from prime_now.kernel.models import Lever

POISONED: set[str] = set()  # probe ids whose handler fails (in this process)


@dataclass(frozen=True)
class PoisonProbed(Event):
    probe_id: str
    poison: bool = False


def on_poison_probed(event: PoisonProbed) -> None:
    if event.poison or event.probe_id in POISONED or os.environ.get("POISON_ALL"):
        raise RuntimeError(f"cannot digest {event.probe_id}")
    Lever.objects.create(name=f"digested-{event.probe_id}")


subscribe(PoisonProbed, on_poison_probed)


def digested(probe_id: str) -> int:
    return Lever.objects.filter(name=f"digested-{probe_id}").count()
