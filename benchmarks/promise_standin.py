"""The promise API while fulfillment is slow: p99 with fulfillment's door slowed to 2 s a call
(an injected fault), answered by the stand-in provider once the breaker opens.

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379 \
        .venv/bin/python benchmarks/promise_standin.py [--clients 8] [--seconds 30] [--port 8790]

Prints (figures, not assertions), each with p50/p99 and the answers' statuses and kinds:
  - the promise with fulfillment healthy (the precise promise, warm cache),
  - the promise with every fulfillment call slowed by 2 s, from the moment the fault is
    injected (so the first calls, before the breaker opens, are in the figures),
  - how long after the fault is removed the precise promise is back.

Uses the bench hub of benchmarks/delivery_checkout.py ("BENCH", postcode 99999), which it
creates if missing: run it against a scratch database. gunicorn runs as in production
(`make run`: sync workers); the clients are Python threads on the same machine.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")

from benchmarks.delivery_checkout import POSTCODE, percentile, seed, setup_django, start_gunicorn  # noqa: E402

SLOW_MS = 2000


def hammer(url: str, clients: int, seconds: float) -> tuple[list[float], dict[str, int]]:
    """Latencies (s) and counts of answer kinds: precise, stale, conservative, unavailable,
    or the HTTP status when not 200."""
    latencies: list[float] = []
    kinds: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        mine, counts = [], {}
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = session.get(url, timeout=30)
            mine.append(time.perf_counter() - started)
            if response.status_code != 200:
                kind = str(response.status_code)
            else:
                body = response.json()
                kind = (
                    "stale" if body["stale"] else
                    "conservative" if body["conservative"] else
                    "precise" if body["available"] else "unavailable"
                )  # fmt: skip
            counts[kind] = counts.get(kind, 0) + 1
        with lock:
            latencies.extend(mine)
            for kind, count in counts.items():
                kinds[kind] = kinds.get(kind, 0) + count

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, kinds


def show(name: str, latencies: list[float], kinds: dict[str, int], seconds: float) -> None:
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(
        f"{name:<34} {len(latencies) / seconds:7.1f}/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
        f"   max {max(latencies) * 1000:7.1f} ms   answers {dict(sorted(kinds.items()))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL to a scratch PostgreSQL database (and REDIS_URL).")
    setup_django()
    from django.core.cache import cache

    from prime_now.kernel.faults import fault_add, fault_clear

    seed()
    fault_clear()
    cache.delete_many([f"kernel:breaker:{name}" for name in ("fulfillment", "catalog")])
    url = f"http://127.0.0.1:{args.port}/api/v1/delivery/promise?postcode={POSTCODE}"
    server = start_gunicorn(args.port, args.workers, log_name="bench-promise-gunicorn.log")
    try:
        for _ in range(20):  # warm: every worker has the hub and a good promise to stand in with
            requests.get(url, timeout=10)
        latencies, kinds = hammer(url, args.clients, args.seconds)
        show("promise, fulfillment healthy", latencies, kinds, args.seconds)

        minutes = (args.seconds + 120) / 60
        fault = fault_add(target="fulfillment", kind="latency", latency_ms=SLOW_MS,
                          minutes=minutes, reason="benchmark: promise_standin")  # fmt: skip
        latencies, kinds = hammer(url, args.clients, args.seconds)
        show(f"promise, fulfillment slowed {SLOW_MS} ms", latencies, kinds, args.seconds)

        fault_clear(fault_id=fault.id)
        cleared = time.monotonic()
        while time.monotonic() - cleared < 120:
            body = requests.get(url, timeout=10).json()
            if not body["stale"] and not body["conservative"]:
                break
            time.sleep(0.2)
        print(
            f"precise promise back {time.monotonic() - cleared:.1f} s after the fault was removed"
        )
    finally:
        fault_clear()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
