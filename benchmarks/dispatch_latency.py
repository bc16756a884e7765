"""Packed → courier accepted latency, with simulated couriers answering at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pn_dispatch REDIS_URL=redis://127.0.0.1:6379 \
        .venv/bin/python benchmarks/dispatch_latency.py --rates 1,20 --seconds 10

For each rate it packs orders at that pace through fulfillment's door, in app processes as
web workers would (each order placed and picked beforehand, so only the pack is timed), while
a real Celery worker (started here, on every app's queue, as `make run` starts it) runs
delivery's OrderPacked handler, and simulated couriers' apps see their new offers within
50 ms (one query for every courier's pending offers every 50 ms, as a push or a prompt poll
would) and accept at once through the same service the courier API calls, each on their own
phone (side by side, in app processes). Latency = courier's accept committed − pack called:
it includes that up-to-50 ms wait for the app to see the offer.
Prints p50/p90/p99/max per rate, and the same per stage, from the rows' own timestamps:

    pack called → outbox row written (fulfillment's transaction) → relayed to the broker →
    OrderPacked handler started (HandledEvent) → delivery job created → offering started
    (the offer's created_at: when job_offer_next began ranking couriers) → courier sees the
    offer (ranking, insert, the handler's commit, the app's next poll) → accept committed

The world is made before the worker starts (users in bulk, stock rows in bulk, orders placed
and picked through the apps' doors); the run then waits until the worker has handled what
that setup published, so the timed orders do not queue behind it. Not a test: it leaves its
rows (a fresh hub per run).
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from functools import partial
from multiprocessing import get_context
from multiprocessing.pool import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")
os.environ.setdefault("REDIS_BROKER_DB", os.environ.get("TEST_REDIS_BROKER_DB", "6"))
os.environ.setdefault("CACHE_KEY_PREFIX", f"bench-dispatch-{os.getpid()}")
os.environ.setdefault("REDIS_CACHE_DB", "14")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from delivery.handlers.transport import on_order_packed  # noqa: E402
from delivery.models import DeliveryJob, Offer  # noqa: E402
from delivery.transport.blocks import block_claim, block_publish  # noqa: E402
from delivery.transport.couriers import courier_ping, courier_set_online, courier_upsert  # noqa: E402
from delivery.transport.offers import offer_accept  # noqa: E402
from fulfillment import services as fulfillment  # noqa: E402
from fulfillment.models import HubStaff, Stock, StockMovement  # noqa: E402
from ordering import services as ordering  # noqa: E402
from prime_now.kernel.bus import handler_key  # noqa: E402
from prime_now.kernel.models import HandledEvent, OutboxEvent  # noqa: E402
from prime_now.kernel.roles import Role, role_grant  # noqa: E402
from tests.fulfillment.factories import HubFactory  # noqa: E402

HUB = (47.6101, -122.3421)
STAGES = (
    ("pack → outbox row", "called", "outbox"),
    ("outbox row → relayed", "outbox", "relayed"),
    ("relayed → handler started", "relayed", "handled"),
    ("handler → job created", "handled", "job"),
    ("job → offering started", "job", "offer"),
    ("offering → courier sees it", "offer", "seen"),
    ("sees → accept committed", "seen", "accepted"),
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def make_users(prefix: str, count: int, role: str) -> list[int]:
    """Users in bulk, with no usable password: hashing one takes about a second."""
    model = get_user_model()
    users = model.objects.bulk_create(
        [
            model(username=f"{prefix}-{n}", email=f"{prefix}-{n}@example.com", password="!")
            for n in range(count)
        ]
    )
    for user in users:
        role_grant(user_id=user.pk, role=Role(role))
    return [user.pk for user in users]


def setup_world(run: str, orders: int, couriers: int):
    hub = HubFactory(code=f"BENCH-{run}", lat=HUB[0], lon=HUB[1])
    start = timezone.now()
    block = block_publish(
        hub_code=hub.code,
        starts_at=start - timedelta(minutes=5),
        ends_at=start + timedelta(hours=3),
        wanted=couriers,
    )
    courier_ids = make_users(f"bench-{run}-courier", couriers, "courier")
    for n, user_id in enumerate(courier_ids):
        courier_upsert(user_id=user_id, home_hub_code=hub.code, bag_capacity=20)
        block_claim(user_id=user_id, block_id=block.id)
        courier_set_online(user_id=user_id, online=True)
        courier_ping(user_id=user_id, lat=HUB[0] + n * 1e-4, lon=HUB[1])
    customers = make_users(f"bench-{run}-customer", orders, "customer")
    pickers = make_users(f"bench-{run}-picker", orders, "picker")
    HubStaff.objects.bulk_create([HubStaff(hub=hub, user_id=user_id) for user_id in pickers])
    with transaction.atomic():  # opening balances, written the way StockFactory writes them
        stocks = Stock.objects.bulk_create(
            [
                Stock(
                    hub=hub,
                    product_id=900_001 + i,
                    sku=f"STK-{run}-{i}",
                    name=f"Product {i}",
                    on_hand=5,
                    reserved=0,
                )
                for i in range(orders)
            ]
        )
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    stock=stock, kind="received", on_hand_delta=5, reason="opening (bench)"
                )
                for stock in stocks
            ]
        )
    prepared = []
    window_start = start + timedelta(minutes=45)
    for i, (stock, customer_id, picker_id) in enumerate(
        zip(stocks, customers, pickers, strict=True)
    ):
        reservation = fulfillment.stock_reserve(
            hub_code=hub.code,
            lines=[fulfillment.StockLine(product_id=stock.product_id, quantity=1)],
            hold_for=timedelta(minutes=30),
            reference=f"bench-{run}-{i}",
        )
        order = ordering.order_place(
            customer_id=customer_id,
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
        job = fulfillment.pick_job_claim_next(hub_code=hub.code, picker_id=picker_id)
        fulfillment.pick_line_confirm(
            job_id=job.id, picker_id=picker_id, sku=stock.sku, picked_quantity=1
        )
        prepared.append((order.number, job.id, picker_id))
    return hub, courier_ids, prepared


def analyze() -> None:
    """Refresh the planner's statistics, as autovacuum would in production: this machine's
    PostgreSQL runs without autovacuum, and plans made on the counts of an emptier database
    walked whole tables."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def start_worker(concurrency: int) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "prime_now", "worker", "--pool", "prefork",
        "--concurrency", str(concurrency), "--without-heartbeat", "--without-gossip",
        "--without-mingle", "-Q", ",".join(settings.CELERY_TASK_QUEUES_ALL),
        "--loglevel", "WARNING",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def broker_backlog() -> int:
    """Messages waiting in the broker's queues (Redis lists named after the queues)."""
    from prime_now.celery import app

    with app.connection_for_read() as conn:
        client = conn.default_channel.client
        return sum(client.llen(queue) for queue in settings.CELERY_TASK_QUEUES_ALL)


def settle(timeout: float = 120.0) -> float:
    """Wait until the worker has handled what the setup published. Returns the seconds taken."""
    begin = time.monotonic()
    while time.monotonic() - begin < timeout:
        if broker_backlog() == 0:
            time.sleep(0.5)  # the last ones may still be running
            if broker_backlog() == 0:
                break
        time.sleep(0.5)
    return time.monotonic() - begin


POLL_SECONDS = 0.05


def apps_pool(processes: int) -> Pool:
    """Processes standing in for web workers: pickers' packs and couriers' accepts are
    requests other processes serve, not threads sharing this process's GIL (which queued
    them behind one another and made them look slower than any server would be). All of
    them are started and connected before the clock runs."""
    pool = get_context("spawn").Pool(processes, initializer=_app_ready)
    pool.map(time.sleep, [0.5] * processes, chunksize=1)  # one each: wait until all are up
    return pool


def _app_ready() -> None:
    connection.ensure_connection()


def pack_order(job_id: str, picker_id: int) -> float:
    """In an app process: pack the order as the picker's handheld would. Returns when the
    pack was called (epoch seconds)."""
    started = time.time()
    fulfillment.pick_job_pack(job_id=job_id, picker_id=picker_id, bags=1)
    return started


def accept_offer(offer_id: str, user_id: int) -> tuple[float, str]:
    """In an app process: the courier accepts. Returns when the accept committed, and the
    refusal's name if it was refused."""
    try:
        offer_accept(user_id=user_id, offer_id=offer_id)
    except Exception as exc:
        return time.time(), type(exc).__name__
    return time.time(), ""


class Couriers:
    """The couriers' apps see a new offer within POLL_SECONDS and accept at once (each courier
    answers on their own phone: accepts run side by side, in app processes).

    One query for all the couriers' pending offers every 50 ms stands in for them: prompt, as
    a push notification would be (a real app polls every few seconds or gets a push), without
    the simulation itself eating the CPU the worker is being measured on (40 couriers polling
    every 10 ms did, on 2 cores)."""

    def __init__(self, courier_ids: list[int], apps: Pool):
        self.courier_ids = courier_ids
        self.seen: dict[str, float] = {}  # offer id → when the app first saw it
        self.accepted: dict[str, float] = {}  # job id → when the accept call returned
        self.errors: dict[str, int] = {}
        self.stop = threading.Event()
        self._apps = apps

    def _answered(self, job_id: str, answer: tuple[float, str]) -> None:
        committed, refused = answer
        if refused:
            self.errors[refused] = self.errors.get(refused, 0) + 1
        else:
            self.accepted[job_id] = committed

    def poll(self) -> None:
        while not self.stop.is_set():
            pending = Offer.objects.filter(
                status="pending", courier__user_id__in=self.courier_ids
            ).values_list("pk", "job_id", "courier__user_id")
            now = time.time()
            for offer_id, job_id, user_id in pending:
                if str(offer_id) in self.seen:
                    continue
                self.seen[str(offer_id)] = now
                self._apps.apply_async(
                    accept_offer,
                    (str(offer_id), user_id),
                    callback=partial(self._answered, str(job_id)),
                )
            self.stop.wait(POLL_SECONDS)
        connection.close()

    def ping(self) -> None:
        """Meanwhile the apps keep reporting where they are (positions go stale after 120 s)."""
        while not self.stop.is_set():
            for n, user_id in enumerate(self.courier_ids):
                courier_ping(user_id=user_id, lat=HUB[0] + n * 1e-4, lon=HUB[1])
            self.stop.wait(30)
        connection.close()


def run_rate(rate: float, batch: list, couriers: Couriers, packers: Pool, timeout=60.0):
    """Pack `batch` at `rate` orders/s in the packers' processes (each keeps its database
    connection from one pack to the next, as a web worker does)."""
    begin = time.monotonic()
    packed = {}
    for i, (number, job_id, picker_id) in enumerate(batch):
        delay = begin + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        packed[number] = packers.apply_async(pack_order, (job_id, picker_id))
    called = {number: result.get() for number, result in packed.items()}
    numbers = [number for number, _, _ in batch]
    deadline = time.monotonic() + timeout
    jobs: dict[str, str] = {}
    while time.monotonic() < deadline:
        jobs = {
            str(pk): number
            for pk, number in DeliveryJob.objects.filter(
                order_number__in=numbers, accepted_at__isnull=False
            ).values_list("pk", "order_number")
        }
        if len(jobs) == len(numbers) and all(pk in couriers.accepted for pk in jobs):
            break
        time.sleep(0.1)
    missing = len(numbers) - len(jobs)
    if missing:
        print(f"  !! {missing} of {len(numbers)} not accepted within {timeout:.0f}s")
    return stage_times(numbers, called, couriers)


def stage_times(numbers: list[str], called: dict[str, float], couriers: Couriers):
    """Per order, the time of each stage (epoch seconds), from the rows' own timestamps."""
    times: dict[str, dict[str, float]] = {n: {"called": called[n]} for n in numbers if n in called}
    events = OutboxEvent.objects.filter(
        name="fulfillment.OrderPacked", payload__order_ref__in=numbers
    ).values_list("pk", "payload__order_ref", "created_at", "relayed_at")
    by_event = {}
    for pk, number, created_at, relayed_at in events:
        if number in times:
            by_event[pk] = number
            times[number]["outbox"] = created_at.timestamp()
            if relayed_at:
                times[number]["relayed"] = relayed_at.timestamp()
    for event_id, handled_at in HandledEvent.objects.filter(
        event_id__in=list(by_event), handler=handler_key(on_order_packed)
    ).values_list("event_id", "handled_at"):
        times[by_event[event_id]]["handled"] = handled_at.timestamp()
    job_numbers = {}
    for pk, number, created_at in DeliveryJob.objects.filter(order_number__in=numbers).values_list(
        "pk", "order_number", "created_at"
    ):
        job_numbers[pk] = number
        times[number]["job"] = created_at.timestamp()
        if str(pk) in couriers.accepted:
            times[number]["accepted"] = couriers.accepted[str(pk)]
    # The offer that was accepted (the first one a courier saw, when every courier says yes).
    for pk, job_id, created_at in Offer.objects.filter(
        job_id__in=list(job_numbers), status="accepted"
    ).values_list("pk", "job_id", "created_at"):
        stage = times[job_numbers[job_id]]
        stage["offer"] = created_at.timestamp()
        if str(pk) in couriers.seen:
            stage["seen"] = couriers.seen[str(pk)]
    return times


def report(label: str, values: list[float]) -> str:
    return (
        f"{label:<28} p50 {statistics.median(values):>7.0f} ms  "
        f"p90 {percentile(values, 90):>7.0f}  p99 {percentile(values, 99):>7.0f}  "
        f"max {max(values):>7.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="1,20", help="orders per second, comma separated")
    parser.add_argument("--seconds", type=float, default=10, help="how long to pack at each rate")
    parser.add_argument("--couriers", type=int, default=40)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument(
        "--app-processes", type=int, default=2, help="processes packing, and accepting, each"
    )
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    counts = [max(1, int(rate * args.seconds)) for rate in rates]
    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:6]
    print(f"preparing {sum(counts)} picked orders and {args.couriers} couriers (hub BENCH-{run})")
    t = time.monotonic()
    _, courier_ids, prepared = setup_world(run, sum(counts), args.couriers)
    analyze()
    print(f"  ready in {time.monotonic() - t:.0f}s; load average {os.getloadavg()}")
    worker = start_worker(args.worker_concurrency)
    packers, accepters = apps_pool(args.app_processes), apps_pool(args.app_processes)
    couriers = Couriers(courier_ids, accepters)
    try:
        print(f"  worker handled the setup's events in {settle():.0f}s")
        threading.Thread(target=couriers.ping, daemon=True).start()
        threading.Thread(target=couriers.poll, daemon=True).start()
        time.sleep(1)
        offset = 0
        for rate, count in zip(rates, counts, strict=True):
            batch = prepared[offset : offset + count]
            offset += count
            times = run_rate(rate, batch, couriers, packers)
            total = [
                (t["accepted"] - t["called"]) * 1000 for t in times.values() if "accepted" in t
            ]
            if not total:
                print(f"{rate:>5.0f} orders/s: nothing accepted")
                continue
            print(f"{rate:>5.0f} orders/s, {len(total)} orders:")
            for label, start, end in STAGES:
                values = [
                    (t[end] - t[start]) * 1000 for t in times.values() if start in t and end in t
                ]
                if values:
                    print("  " + report(label, values))
            print("  " + report("packed → accepted (total)", total))
        if couriers.errors:
            print(f"courier answers refused: {couriers.errors}")
        print(f"load average after: {os.getloadavg()}")
    finally:
        couriers.stop.set()
        for pool in (packers, accepters):
            pool.terminate()
        worker.terminate()
        worker.wait(timeout=15)


if __name__ == "__main__":
    main()
