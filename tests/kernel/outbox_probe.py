"""A test-only event and subscriber. A real worker loads it with `--include`."""

from dataclasses import dataclass

from prime_now.kernel.bus import Event, subscribe
from prime_now.kernel.models import Lever


@dataclass(frozen=True)
class ProbePinged(Event):
    probe_id: str


def on_probe_pinged(event: ProbePinged) -> None:
    # Lever is a kernel table any test may write: one row per handled ping.
    Lever.objects.create(name=f"probe-{event.probe_id}", description="outbox probe")


subscribe(ProbePinged, on_probe_pinged)


def handled(probe_id: str) -> int:
    return Lever.objects.filter(name=f"probe-{probe_id}").count()
