"""Stock reservations per second on PostgreSQL: 16 parallel clients, 8-line baskets drawn
from 25,000 SKUs (popularity Zipf(1)-like, as in a real store, so the best sellers are
contended; `--skew uniform` for none), each basket reserved all-or-none, then released.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \
        .venv/bin/python benchmarks/fulfillment_reservations.py [--clients 16] [--seconds 20]

Prints (figures, not assertions): reservations/s, p50/p99 latency of stock_reserve, releases/s,
queries per reservation, and whether the ledger still agrees. Each client is its own process
(its own connection, no shared GIL). It writes a hub "bench-fulfillment" with 25,000 stock rows
(synthetic product ids) into the database DATABASE_URL names: use a scratch database.
"""

import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")

HUB = "bench-fulfillment"
SKUS = 25_000
LINES = 8
FIRST_ID = 50_000_001
ON_HAND = 10_000_000


def setup_django() -> None:
    import django

    django.setup()


def prepare() -> None:
    from django.core.management import call_command

    from fulfillment import services
    from fulfillment.models import Hub

    call_command("migrate", verbosity=0)
    Hub.objects.update_or_create(
        code=HUB,
        defaults={
            "name": "Benchmark hub",
            "address": "-",
            "postcode": "99999",
            "lat": 47.6,
            "lon": -122.3,
            "radius_km": 1,
            "postcodes": ["99999"],
        },
    )
    created = services.stock_receive_new(
        hub_code=HUB,
        items=[
            services.NewStock(
                product_id=FIRST_ID + n,
                sku=f"BENCH-{n:05d}",
                name=f"Bench {n}",
                on_hand=ON_HAND,
                aisle=f"{n % 30:02d}",
                bin=f"{n % 97:02d}",
            )
            for n in range(SKUS)
        ],
        reason="benchmark stock",
    )
    print(f"hub {HUB}: {SKUS} SKUs ({created} created now)")


def basket(rnd: random.Random, skew: str = "zipf") -> list[int]:
    chosen: set[int] = set()
    while len(chosen) < LINES:
        # Zipf(1) popularity via a log-uniform rank: the best seller is in ~1 line of 14
        # (about 4 baskets in 10), the top 100 SKUs in ~45% of lines.
        rank = int(SKUS ** rnd.random()) - 1 if skew == "zipf" else rnd.randrange(SKUS)
        chosen.add(FIRST_ID + rank)
    return list(chosen)


def client(index: int, seconds: float, skew: str, barrier, out: mp.Queue) -> None:
    setup_django()
    from django.db import connection

    from fulfillment import services
    from fulfillment.services import InsufficientStockError, StockLine

    rnd = random.Random(index)
    latencies, releases, refused = [], 0, 0
    services.stock_available(hub_code=HUB, product_ids=[FIRST_ID])  # connect before the start
    barrier.wait()  # everyone starts together, after the slow process start-up
    end = time.time() + seconds
    while time.time() < end:
        lines = [StockLine(product_id=pid, quantity=rnd.randint(1, 3)) for pid in basket(rnd, skew)]
        t0 = time.perf_counter()
        try:
            dto = services.stock_reserve(
                hub_code=HUB, lines=lines, hold_for=timedelta(minutes=10), reference=f"b{index}"
            )
        except InsufficientStockError:
            refused += 1
            continue
        latencies.append(time.perf_counter() - t0)
        services.stock_reservation_release(reservation_id=dto.id, reason="benchmark")
        releases += 1
    connection.close()
    out.put((latencies, releases, refused))


def queries_per_reservation() -> int:
    """Queries of one 8-line reservation (and, printed, of its release), and the CPU time of
    both in this process, one at a time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fulfillment import services
    from fulfillment.services import StockLine

    rnd = random.Random(0)

    def reserve(reference: str):
        lines = [StockLine(product_id=pid, quantity=1) for pid in basket(rnd, "uniform")]
        return services.stock_reserve(
            hub_code=HUB, lines=lines, hold_for=timedelta(minutes=1), reference=reference
        )

    with CaptureQueriesContext(connection) as ctx:
        dto = reserve("count")
    with CaptureQueriesContext(connection) as released:
        services.stock_reservation_release(reservation_id=dto.id)
    reserve_cpu = release_cpu = 0.0
    for _ in range(50):
        started = time.process_time()
        dto = reserve("cpu")
        reserve_cpu += time.process_time() - started
        started = time.process_time()
        services.stock_reservation_release(reservation_id=dto.id)
        release_cpu += time.process_time() - started
    print(
        f"queries per release: {len(released.captured_queries)}; in process, one at a time: "
        f"{reserve_cpu / 50 * 1000:.1f} ms CPU per reservation, "
        f"{release_cpu / 50 * 1000:.1f} ms per release"
    )
    return len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--skew", choices=["zipf", "uniform"], default="zipf")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (it writes 25,000 SKUs).")
    setup_django()
    from django.db import connection

    prepare()
    print(f"queries per 8-line reservation: {queries_per_reservation()}")
    connection.close()
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    barrier = ctx.Barrier(args.clients)
    procs = [
        ctx.Process(target=client, args=(i, args.seconds, args.skew, barrier, out))
        for i in range(args.clients)
    ]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    latencies = [lat for res in results for lat in res[0]]
    releases = sum(res[1] for res in results)
    refused = sum(res[2] for res in results)
    latencies.sort()
    print(
        f"clients: {args.clients}, seconds: {args.seconds:g}, basket: {LINES} lines of {SKUS} SKUs"
    )
    print(
        f"reservations: {len(latencies)} ({len(latencies) / args.seconds:.0f}/s), "
        f"refused: {refused}"
    )
    print(f"releases: {releases} ({releases / args.seconds:.0f}/s)")
    if latencies:
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(
            f"stock_reserve latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms"
        )
    from fulfillment import services

    mismatches = services.stock_verify(hub_code=HUB)
    print(f"ledger agrees: {not mismatches} ({len(mismatches)} mismatching rows)")
    print(f"load average (1/5/15 min): {os.getloadavg()}, cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main()
