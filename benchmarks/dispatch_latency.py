"""Packed → courier accepted latency, with simulated couriers answering at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pn_dispatch REDIS_URL=redis://127.0.0.1:6379 \
        .venv/bin/python benchmarks/dispatch_latency.py --rates 1,20 --seconds 10

For each rate it packs orders at that pace through fulfillment's door (each order placed and
picked beforehand, so only the pack is timed), while a real Celery worker (started here, on
the delivery/kernel queues) runs delivery's OrderPacked handler and the offer task, and
simulated couriers poll their offers every 10 ms and accept at once through the same service
the courier API calls. Latency = courier's accept committed (job.accepted_at) − pack called.
Prints p50/p90/p99/max per rate. Not a test: it leaves its rows (a fresh hub per run).
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")
os.environ.setdefault("REDIS_BROKER_DB", os.environ.get("TEST_REDIS_BROKER_DB", "6"))
os.environ.setdefault("CACHE_KEY_PREFIX", f"bench-dispatch-{os.getpid()}")
os.environ.setdefault("REDIS_CACHE_DB", "14")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from delivery.dispatch.blocks import block_claim, block_publish  # noqa: E402
from delivery.dispatch.couriers import courier_ping, courier_set_online, courier_upsert  # noqa: E402
from delivery.dispatch.offers import offer_accept  # noqa: E402
from delivery.models import DeliveryJob, Offer  # noqa: E402
from fulfillment import services as fulfillment  # noqa: E402
from ordering import services as ordering  # noqa: E402
from tests.fulfillment.factories import HubFactory, PickerFactory, StockFactory  # noqa: E402
from tests.kernel.factories import UserFactory  # noqa: E402

HUB = (47.6101, -122.3421)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def setup_world(run: str, orders: int, couriers: int):
    hub = HubFactory(code=f"BENCH-{run}", lat=HUB[0], lon=HUB[1])
    start = timezone.now()
    block = block_publish(
        hub_code=hub.code,
        starts_at=start - timedelta(minutes=5),
        ends_at=start + timedelta(hours=3),
        wanted=couriers,
    )
    courier_ids = []
    for n in range(couriers):
        user = UserFactory(username=f"bench-{run}-courier-{n}", roles=["courier"])
        courier_upsert(user_id=user.pk, home_hub_code=hub.code, bag_capacity=20)
        block_claim(user_id=user.pk, block_id=block.id)
        courier_set_online(user_id=user.pk, online=True)
        courier_ping(user_id=user.pk, lat=HUB[0] + n * 1e-4, lon=HUB[1])
        courier_ids.append(user.pk)
    prepared = []
    window_start = start + timedelta(minutes=45)
    for i in range(orders):
        stock = StockFactory(hub=hub, on_hand=5)
        reservation = fulfillment.stock_reserve(
            hub_code=hub.code,
            lines=[fulfillment.StockLine(product_id=stock.product_id, quantity=1)],
            hold_for=timedelta(minutes=30),
            reference=f"bench-{run}-{i}",
        )
        customer = UserFactory(username=f"bench-{run}-customer-{i}", roles=["customer"])
        order = ordering.order_place(
            customer_id=customer.pk,
            idempotency_key=str(uuid.uuid4()),
            lines=[
                ordering.OrderLineInput(
                    product_id=stock.product_id,
                    sku=stock.sku,
                    name=stock.name,
                    unit_price=Decimal("3.00"),
                    quantity=1,
                )
            ],
            delivery=ordering.DeliverySnapshot(
                address=f"{i} Bench St",
                postcode="98101",
                lat=HUB[0] + 0.01,
                lon=HUB[1],
                hub_code=hub.code,
                window_id=1,
                window_start=window_start,
                window_end=window_start + timedelta(hours=2),
                window_kind="two_hour",
            ),
            delivery_fee=Decimal("0.00"),
            tip=Decimal("0.00"),
            payment_token="tok_visa",
        )
        fulfillment.stock_reservation_confirm(reservation_id=reservation.id)
        fulfillment.pick_job_create(
            order_ref=order.number,
            hub_code=hub.code,
            reservation_id=reservation.id,
            lines=[
                fulfillment.PickLineSpec(
                    product_id=stock.product_id, sku=stock.sku, name=stock.name, quantity=1
                )
            ],
            due_by=window_start,
        )
        picker = PickerFactory(username=f"bench-{run}-picker-{i}", hub=hub)
        job = fulfillment.pick_job_claim_next(hub_code=hub.code, picker_id=picker.pk)
        fulfillment.pick_line_confirm(
            job_id=job.id, picker_id=picker.pk, sku=stock.sku, picked_quantity=1
        )
        prepared.append((order.number, job.id, picker.pk))
    return hub, courier_ids, prepared


def start_worker(concurrency: int) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "prime_now", "worker", "--pool", "prefork",
        "--concurrency", str(concurrency), "--without-heartbeat", "--without-gossip",
        "--without-mingle", "-Q", "kernel,delivery,ordering,fulfillment,default",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def couriers_answer(courier_ids: list[int], stop: threading.Event) -> None:
    """Every courier's app polls its offers every 10 ms and accepts at once."""
    by_profile = {}
    while not stop.is_set():
        pending = list(
            Offer.objects.filter(status="pending", courier__user_id__in=courier_ids).values_list(
                "pk", "courier__user_id"
            )
        )
        for offer_id, user_id in pending:
            try:
                offer_accept(user_id=user_id, offer_id=str(offer_id))
            except Exception as exc:
                by_profile[type(exc).__name__] = by_profile.get(type(exc).__name__, 0) + 1
        time.sleep(0.01)
    connection.close()


def couriers_ping(courier_ids: list[int], stop: threading.Event) -> None:
    """Meanwhile the apps keep reporting where they are (positions go stale after 120 s)."""
    while not stop.is_set():
        for n, user_id in enumerate(courier_ids):
            courier_ping(user_id=user_id, lat=HUB[0] + n * 1e-4, lon=HUB[1])
        stop.wait(30)
    connection.close()


def run_rate(rate: float, batch: list, timeout: float = 60.0) -> list[float]:
    packed_at: dict[str, float] = {}

    def pack(item):
        number, job_id, picker_id = item
        started = time.time()
        fulfillment.pick_job_pack(job_id=job_id, picker_id=picker_id, bags=1)
        packed_at[number] = started
        connection.close()

    begin = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for i, item in enumerate(batch):
            delay = begin + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(pack, item)
    numbers = [number for number, _, _ in batch]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = DeliveryJob.objects.filter(order_number__in=numbers, accepted_at__isnull=False)
        if done.count() == len(numbers):
            break
        time.sleep(0.2)
    accepted = dict(
        DeliveryJob.objects.filter(order_number__in=numbers, accepted_at__isnull=False).values_list(
            "order_number", "accepted_at"
        )
    )
    missing = len(numbers) - len(accepted)
    if missing:
        print(f"  !! {missing} of {len(numbers)} not accepted within {timeout:.0f}s")
    return [(accepted[n].timestamp() - packed_at[n]) * 1000 for n in accepted if n in packed_at]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="1,20", help="orders per second, comma separated")
    parser.add_argument("--seconds", type=float, default=10, help="how long to pack at each rate")
    parser.add_argument("--couriers", type=int, default=40)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    counts = [max(1, int(rate * args.seconds)) for rate in rates]
    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:6]
    print(f"preparing {sum(counts)} picked orders and {args.couriers} couriers (hub BENCH-{run})")
    t = time.monotonic()
    _, courier_ids, prepared = setup_world(run, sum(counts), args.couriers)
    print(f"  ready in {time.monotonic() - t:.0f}s; load average {os.getloadavg()}")
    worker = start_worker(args.worker_concurrency)
    stop = threading.Event()
    answering = threading.Thread(target=couriers_answer, args=(courier_ids, stop), daemon=True)
    try:
        time.sleep(4)  # the worker connects
        threading.Thread(target=couriers_ping, args=(courier_ids, stop), daemon=True).start()
        time.sleep(2)
        answering.start()
        offset = 0
        for rate, count in zip(rates, counts, strict=True):
            batch = prepared[offset : offset + count]
            offset += count
            latencies = run_rate(rate, batch)
            if not latencies:
                print(f"{rate:>5.0f} orders/s: nothing accepted")
                continue
            print(
                f"{rate:>5.0f} orders/s, {len(latencies)} orders: packed → accepted "
                f"p50 {statistics.median(latencies):.0f} ms, "
                f"p90 {percentile(latencies, 90):.0f} ms, "
                f"p99 {percentile(latencies, 99):.0f} ms, max {max(latencies):.0f} ms"
            )
        print(f"load average after: {os.getloadavg()}")
    finally:
        stop.set()
        worker.terminate()
        worker.wait(timeout=15)


if __name__ == "__main__":
    main()
