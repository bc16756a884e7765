"""A test-only event and subscriber. A real worker loads it with `--include`."""

from dataclasses import dataclass

import structlog
from django.db import connection

from prime_now.kernel.bus import Event, subscribe
from prime_now.kernel.models import Lever


@dataclass(frozen=True)
class ProbePinged(Event):
    probe_id: str


def on_probe_pinged(event: ProbePinged) -> None:
    # Lever is a kernel table any test may write: one row per handled ping, saying which
    # database session handled it.
    Lever.objects.create(name=f"probe-{event.probe_id}", description=_session())
    structlog.get_logger(__name__).info("probe handled", probe_id=event.probe_id)


def _session() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return f"backend {cursor.fetchone()[0]}"


subscribe(ProbePinged, on_probe_pinged)


def handled(probe_id: str) -> int:
    return Lever.objects.filter(name=f"probe-{probe_id}").count()


def sessions(probe_prefix: str) -> set[str]:
    """The database sessions that handled the pings whose ids start with `probe_prefix`."""
    return set(
        Lever.objects.filter(name__startswith=f"probe-{probe_prefix}").values_list(
            "description", flat=True
        )
    )
