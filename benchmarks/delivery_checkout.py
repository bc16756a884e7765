"""Checkout and promise throughput through HTTP, beside pgbench's minimal order transaction.

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379 \
        .venv/bin/python benchmarks/delivery_checkout.py [--clients 16] [--seconds 10] [--rounds 3]

Prints (figures, not assertions):
  - queries per checkout (one in-process checkout, 8-line basket),
  - per round, checkouts/s with p50/p99 latency: 16 concurrent HTTP clients against gunicorn,
    8-line baskets drawn from 400 products, spread over 8 windows, each request with its own
    key (the clients are `wrk` with a Lua script when wrk is installed: C, two threads, so the
    cores go to the server; else Python threads, which take a good share of 2 cores),
  - in the same round, the same minimal order transaction as pgbench's below through a bare
    DRF view and the ORM (benchmarks/bare_order: a project as `startproject` makes it, DRF's
    defaults), with p50/p99: gunicorn with the same workers, wrk with the same clients and
    seconds (skipped without wrk),
  - the medians over the rounds, and the ratio checkout rate / bare DRF rate per round and its
    median: a yardstick that moves with the machine's speed (the two alternate, so a machine
    that slows down for a while slows both),
  - promise requests/s with p50/p99 against a warm cache,
  - pgbench's rate for the minimal order transaction (lock and decrement 3 stock rows, insert an
    order and 3 lines, book a slot) with the same number of clients, in the same run.

It writes a hub "BENCH" (postcode 99999), its products, stock, windows and users into the
database DATABASE_URL names (run it against a scratch database), and drops its bench_pg_* tables
(the pgbench and bare DRF ones).
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")

HUB, POSTCODE = "BENCH", "99999"
PRODUCTS, WINDOWS, LINES = 400, 8, 8

PGBENCH_SQL = """
\\set p1 random(1, 1000)
\\set p2 random(1001, 2000)
\\set p3 random(2001, 3000)
\\set slot random(1, 8)
BEGIN;
UPDATE bench_pg_stock SET reserved = reserved + 1
    WHERE id IN (:p1, :p2, :p3) AND on_hand - reserved >= 1;
INSERT INTO bench_pg_order (customer_id, total, created_at)
    VALUES (1, 30.00, now()) RETURNING id \\gset
INSERT INTO bench_pg_line (order_id, product_id, quantity, price)
    VALUES (:id, :p1, 1, 10.00), (:id, :p2, 1, 10.00), (:id, :p3, 1, 10.00);
UPDATE bench_pg_slot SET booked = booked + 1 WHERE id = :slot AND booked < capacity;
COMMIT;
"""


def setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed() -> tuple[list[str], list[int], list[str]]:
    """Products, stock and windows for the bench hub; returns skus, window ids and API tokens."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from delivery.models import Window
    from fulfillment.models import Stock
    from prime_now.kernel.tokens import token_issue
    from tests.catalog.factories import ProductFactory
    from tests.fulfillment.factories import HubFactory, StockFactory

    hub = HubFactory(code=HUB, postcode=POSTCODE, postcodes=[POSTCODE], lat=10.0, lon=10.0)
    skus = []
    for n in range(PRODUCTS):
        product = ProductFactory(sku=f"BENCH-{n:04d}", price=Decimal("1.99") + n % 7)
        if not Stock.objects.filter(hub=hub, product_id=product.id).exists():
            StockFactory(hub=hub, product_id=product.id, sku=product.sku, on_hand=10_000_000)
        skus.append(product.sku)
    start = (timezone.now() + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    windows = []
    for n in range(WINDOWS):
        window, _ = Window.objects.update_or_create(
            hub_code=HUB,
            kind="one_hour",
            start=start + timedelta(hours=n),
            defaults={
                "end": start + timedelta(hours=n + 1),
                "cutoff_at": start + timedelta(hours=n) - timedelta(minutes=15),
                "fee": Decimal("5.99"),
                "capacity": 10_000_000,
            },
        )
        windows.append(window.pk)
    tokens = []
    for n in range(64):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-{n}")
        tokens.append(token_issue(user=user, device="bench")[1])
    # Fresh planner statistics, as autovacuum keeps them in production (this machine's
    # PostgreSQL runs without it, and every run adds thousands of orders).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return skus, windows, tokens


def queries_per_checkout(skus, windows) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from delivery.services import CheckoutLine, CheckoutRequest, checkout_place

    user = get_user_model().objects.get(username="bench-0")

    def once():
        return checkout_place(
            customer_id=user.pk,
            idempotency_key=str(uuid.uuid4()),
            request=CheckoutRequest(
                lines=tuple(
                    CheckoutLine(sku=sku, quantity=1) for sku in random.sample(skus, LINES)
                ),
                address="1 Bench St",
                postcode=POSTCODE,
                window_id=windows[0],
                tip=Decimal("1.00"),
                payment_token="tok_visa",
            ),
        )

    once()  # warm caches (hub lookup, levers)
    with CaptureQueriesContext(connection) as captured:
        once()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(20):
        once()
    print(
        f"in process, one at a time: {(time.process_time() - cpu) / 20 * 1000:.1f} ms CPU and "
        f"{(time.perf_counter() - wall) / 20 * 1000:.1f} ms wall per checkout (this process only)"
    )
    return len(captured.captured_queries)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def load(url_for, method, clients: int, seconds: float, tokens, body_for=None):
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Token {tokens[n % len(tokens)]}"} if tokens else {}
        mine, codes = [], {}
        while time.monotonic() < stop:
            started = time.perf_counter()
            if method == "POST":
                response = session.post(
                    url_for(),
                    json=body_for(),
                    headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                    timeout=30,
                )
            else:
                response = session.get(url_for(), headers=headers, timeout=30)
            mine.append(time.perf_counter() - started)
            codes[response.status_code] = codes.get(response.status_code, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    return len(latencies) / elapsed, latencies, statuses


# Shared by the wrk scripts: per-thread counts of 201 and other statuses, and a "PN" line
# with the duration (us), p50 and p99 (us), the counts and socket errors (see run_wrk).
WRK_SUMMARY = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  created, other = 0, 0
  math.randomseed(os.time() * 1000 + (tid or 0))
  base = math.random(1000000000)
end
function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do c = c + t:get("created") o = o + t:get("other") end
  local e = summary.errors
  io.write(string.format("PN %d %d %d %d %d %d\\n", summary.duration, latency:percentile(50),
    latency:percentile(99), c, o, e.connect + e.read + e.write + e.timeout))
end
"""

# Each request: 8 distinct SKUs, a random window and token, and a key no other request uses
# (a random base per wrk thread and run, then a counter).
WRK_CHECKOUT = """
local skus = {SKUS}
local windows = {WINDOWS}
local tokens = {TOKENS}
local n = 0
request = function()
  n = n + 1
  local picked, seen = {}, {}
  while #picked < LINES do
    local sku = skus[math.random(#skus)]
    if not seen[sku] then
      seen[sku] = true
      picked[#picked + 1] = string.format('{"sku":"%s","quantity":1}', sku)
    end
  end
  local body = string.format(
    '{"lines":[%s],"address":"1 Bench St","postcode":"POSTCODE","window_id":%d,'
    .. '"tip":"1.00","payment_token":"tok_visa"}',
    table.concat(picked, ","), windows[math.random(#windows)])
  return wrk.format("POST", "/api/v1/checkout", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Token " .. tokens[math.random(#tokens)],
    ["Idempotency-Key"] = string.format("wrk-%d-%d-%d", base, tid or 0, n),
  }, body)
end
"""

# Each request: pgbench's draw (one product from each third of 1..3000, so 3 distinct) and a
# slot in 1..8, for benchmarks/bare_order.
WRK_BARE_ORDER = """
request = function()
  local body = string.format('{"products":[%d,%d,%d],"slot":%d}', math.random(1, 1000),
    math.random(1001, 2000), math.random(2001, 3000), math.random(1, 8))
  return wrk.format("POST", "/order", {["Content-Type"] = "application/json"}, body)
end
"""


def load_wrk(port: int, clients: int, seconds: float, skus, windows, tokens, warm: bool = True):
    """Checkouts with wrk: (rate, p50 s, p99 s, statuses)."""
    quoted = lambda values: "{" + ", ".join(f'"{v}"' for v in values) + "}"  # noqa: E731
    script = (
        WRK_CHECKOUT.replace("{SKUS}", quoted(skus))
        .replace("{WINDOWS}", "{" + ", ".join(str(w) for w in windows) + "}")
        .replace("{TOKENS}", quoted(tokens))
        .replace("LINES", str(LINES))
        .replace("POSTCODE", POSTCODE)
    )
    return run_wrk(port, clients, seconds, script, warm)


def run_wrk(port: int, clients: int, seconds: float, script: str, warm: bool = True):
    """wrk with `script` (its request function) and WRK_SUMMARY, after a 3 s warm-up unless
    `warm` is false: (rate of 201s, p50 s, p99 s, statuses)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(WRK_SUMMARY + script)
    command = ["wrk", "-t", "2", "-c", str(clients), "--timeout", "10s", "-s", file.name]
    url = f"http://127.0.0.1:{port}"
    try:
        if warm:
            subprocess.run([*command, "-d", "3s", url], capture_output=True, check=True)
        out = subprocess.run(
            [*command, "-d", f"{seconds:.0f}s", url], capture_output=True, text=True, check=True
        ).stdout
    finally:
        os.unlink(file.name)
    line = next(x for x in out.splitlines() if x.startswith("PN "))
    duration, p50, p99, created, other, errors = (int(v) for v in line.split()[1:])
    statuses = {201: created, "other": other, "socket errors": errors}
    return created / (duration / 1e6), p50 / 1e6, p99 / 1e6, statuses


def create_pg_tables() -> None:
    """The minimal order transaction's tables, for pgbench and benchmarks/bare_order."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            DROP TABLE IF EXISTS bench_pg_line, bench_pg_order, bench_pg_stock, bench_pg_slot;
            CREATE TABLE bench_pg_stock (id int PRIMARY KEY, on_hand int NOT NULL,
                reserved int NOT NULL DEFAULT 0, CHECK (reserved <= on_hand));
            INSERT INTO bench_pg_stock SELECT g, 100000000, 0 FROM generate_series(1, 3000) g;
            CREATE TABLE bench_pg_order (id bigserial PRIMARY KEY, customer_id int NOT NULL,
                total numeric(10,2) NOT NULL, created_at timestamptz NOT NULL);
            CREATE TABLE bench_pg_line (id bigserial PRIMARY KEY,
                order_id bigint NOT NULL REFERENCES bench_pg_order(id), product_id int NOT NULL,
                quantity int NOT NULL, price numeric(10,2) NOT NULL);
            CREATE TABLE bench_pg_slot (id int PRIMARY KEY, capacity int NOT NULL,
                booked int NOT NULL DEFAULT 0, CHECK (booked <= capacity));
            INSERT INTO bench_pg_slot SELECT g, 100000000, 0 FROM generate_series(1, 8) g;
            """
        )


def drop_pg_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS bench_pg_line, bench_pg_order, bench_pg_stock, bench_pg_slot"
        )


def pgbench(clients: int, seconds: int) -> float:
    from django.db import connection

    settings = connection.settings_dict
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SQL)
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = [
        "pgbench", "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", script.name,
        "-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432),
        "-U", settings["USER"] or "postgres", settings["NAME"],
    ]  # fmt: skip
    try:
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("tps"))
    return float(line.split("=")[1].split()[0])


def start_gunicorn(
    port: int,
    workers: int,
    project: str = "prime_now",
    probe: str = "/healthz",
    log_name: str = "bench-delivery-gunicorn.log",
) -> subprocess.Popen:
    """gunicorn serving `project`.wsgi with `project`.settings, once `probe` gets any answer."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": f"{project}.settings",
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_ENABLED": "0",  # the figures are the server's, not its limits'
    }
    log = open(Path(tempfile.gettempdir()) / log_name, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"), f"{project}.wsgi", "-b", f"127.0.0.1:{port}",
            "-w", str(workers), "--backlog", "256", "--log-level", "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(150):
        try:
            requests.get(f"http://127.0.0.1:{port}{probe}", timeout=5)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not start (see {log.name})")


def report(name: str, rate: float, p50: float, p99: float, statuses: dict) -> None:
    print(
        f"{name:<28} {rate:8.1f}/s   p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms   "
        f"statuses {statuses}"
    )


def median(values: list[float]) -> float:
    return percentile(values, 50)


def rounds_with_wrk(args, skus, windows, tokens) -> None:
    """Checkout and the bare DRF view in turns, round after round, each server started once:
    both rates of a round see the same machine, so their ratio holds on a machine whose speed
    drifts (this one's shared cores do) better than two runs minutes apart."""
    bare_port = args.port + 1
    checkout_server = start_gunicorn(args.port, args.workers)
    try:
        bare_server = start_gunicorn(
            bare_port, args.workers, "benchmarks.bare_order", "/order", "bench-bare-order.log"
        )
    except BaseException:
        checkout_server.terminate()
        raise
    try:
        ratios, checkouts, bares = [], [], []
        for n in range(1, args.rounds + 1):
            rate, p50, p99, statuses = load_wrk(
                args.port, args.clients, args.seconds, skus, windows, tokens, warm=n == 1
            )
            report(f"round {n}: checkout", rate, p50, p99, statuses)
            bare, b50, b99, bare_statuses = run_wrk(
                bare_port, args.clients, args.seconds, WRK_BARE_ORDER, warm=n == 1
            )
            report(f"round {n}: bare DRF + ORM", bare, b50, b99, bare_statuses)
            checkouts.append(rate)
            bares.append(bare)
            ratios.append(rate / bare)
        print(
            f"checkout {median(checkouts):.1f}/s, bare DRF+ORM minimal order "
            f"{median(bares):.1f}/s (medians of {args.rounds} rounds, {args.clients} clients)"
        )
        print(
            f"checkout / bare DRF+ORM: {median(ratios):.2f} median, rounds "
            + ", ".join(f"{r:.2f}" for r in ratios)
            + " (issue's reference machine: 100/170 = 0.59)"
        )
        promise(args, skus)
    finally:
        for server in (checkout_server, bare_server):
            server.terminate()
        for server in (checkout_server, bare_server):
            server.wait(timeout=30)


def promise(args, skus) -> None:
    """Promise requests against the checkout server, with a warm cache."""
    url = f"http://127.0.0.1:{args.port}/api/v1/delivery/promise?postcode={POSTCODE}&basket="
    url += ",".join(skus[:8])
    requests.get(url, timeout=10)  # warm the cache
    rate, latencies, statuses = load(lambda: url, "GET", args.clients, min(args.seconds, 10), None)
    report(
        "promise (warm cache)",
        rate,
        percentile(latencies, 50),
        percentile(latencies, 99),
        dict(sorted(statuses.items())),
    )


def with_python_clients(args, skus, windows, tokens) -> None:
    """Without wrk: checkouts from Python threads (which take a good share of the cores), no
    bare DRF view."""
    server = start_gunicorn(args.port, args.workers)
    url = f"http://127.0.0.1:{args.port}/api/v1/checkout"

    def basket():
        return {
            "lines": [{"sku": s, "quantity": 1} for s in random.sample(skus, LINES)],
            "address": "1 Bench St",
            "postcode": POSTCODE,
            "window_id": random.choice(windows),
            "tip": "1.00",
            "payment_token": "tok_visa",
        }

    try:
        load(lambda: url, "POST", args.clients, 3, tokens, basket)  # warm-up
        rate, latencies, statuses = load(
            lambda: url, "POST", args.clients, args.seconds, tokens, basket
        )
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        report(f"checkout, {args.clients} clients (python)", rate, p50, p99, statuses)
        promise(args, skus)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("bare DRF + ORM minimal order: skipped (runs with wrk only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10, help="per run")
    parser.add_argument("--rounds", type=int, default=3, help="checkout and bare view in turns")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8765, help="and the next one for the bare view")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (a scratch one).")

    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    setup_django()
    skus, windows, tokens = seed()
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), cores: {os.cpu_count()}")
    print(f"queries per checkout (8 lines, in process): {queries_per_checkout(skus, windows)}")

    create_pg_tables()
    try:
        if use_wrk:
            rounds_with_wrk(args, skus, windows, tokens)
        else:
            with_python_clients(args, skus, windows, tokens)
        tps = pgbench(args.clients, int(min(args.seconds, 10)))
    finally:
        drop_pg_tables()
    print(f"{'pgbench minimal order txn':<28} {tps:8.1f}/s   ({args.clients} clients)")
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
