"""Catalog API figures: 24-product listing and search pages under gunicorn, 16 clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pn_catalog [REDIS_URL=redis://127.0.0.1:6379] \\
        .venv/bin/python benchmarks/catalog_api.py [--seconds 20] [--workers 3] [--threads 1]

Serves `<your database>_bench` (migrated and seeded with the 25,000-product demo catalog if
needed; never your own database) with gunicorn on a free local port, then drives it with
16 concurrent keep-alive clients for each scenario: `wrk` when installed (apt-get install
wrk), else a Python client (threads + http.client, which itself needs CPU on a small machine).

Two figures per page kind, because the API keeps rendered pages in a shared cache keyed by the
catalog's version (README, Catalog):
- `listing`, `search`, `detail` ("warm"): each rotates through a few URLs, as real traffic
  repeats popular pages, so after the first round every request is a cache hit;
- `listing-miss`, `search-miss` ("uncached"): every request adds a never-repeated
  `price_max` (above every price, so the page is the same size), so every request misses
  both cache levels and runs its search: the cost of the first visitor of a page, or of
  every visitor while the catalog changes faster than pages repeat.
The cache is Redis when REDIS_URL is set or --redis is given (as in production; a key prefix
of its own), else Django's file cache in a temporary directory.
Target: >= 300 requests/s with p99 < 120 ms. Prints figures; not a test.
"""

import argparse
import http.client
import itertools
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.catalog_common import (
    ROOT,
    bench_env,
    bench_url,
    database_exists,
    load,
    manage,
    recreate_database,
)

API = "/api/v1/catalog/products"
DEPARTMENTS = ("produce", "dairy-eggs", "snacks", "beverages", "household", "electronics")
ORDERINGS = ("name", "price", "-price")
QUERIES = (
    "milk",
    "bananas",
    "organic milk",
    "coffee",
    "ibuprofen",
    "dog food",
    "chips",
    "red wine",
    "sourdough",
    "usb-c cable",
    "shampoo",
    "chedar",  # a typo: the trigram path
)

LISTING = [API + "?page_size=24"] + [
    f"{API}?page_size=24&department={d}&ordering={o}" for d in DEPARTMENTS for o in ORDERINGS
]
SEARCH = [f"{API}?page_size=24&q={quote(q)}" for q in QUERIES]
SCENARIOS = {
    "listing": LISTING,
    "search": SEARCH,
    "detail": [f"{API}/PN-{n:06d}" for n in range(1, 25_000, 997)],
    "listing-miss": LISTING,
    "search-miss": SEARCH,
}
# Scenarios whose every request gets a parameter never sent before (a cache miss).
UNIQUE = {"listing-miss", "search-miss"}
UNIQUE_BASE = 10_000  # price_max = UNIQUE_BASE + n / 100: above every demo price


def unique_param(n: int) -> str:
    return f"&price_max={UNIQUE_BASE + n // 100}.{n % 100:02d}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int, threads: int, redis: str) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "prime_now.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--backlog",
        "256",
        "--log-level",
        "warning",
    ]
    if threads == 1:
        command += ["--worker-class", "sync"]
    env = bench_env(url) | {"ALLOWED_HOSTS": "127.0.0.1,localhost"}
    if redis:
        env |= {"REDIS_URL": redis, "CACHE_KEY_PREFIX": f"pn-bench-catalog-{os.getpid()}"}
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", f"{API}?page_size=1")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    sys.exit("gunicorn did not answer within 30 s")


def run_wrk(port: int, paths: list[str], seconds: int, clients: int, unique: bool) -> dict:
    script = Path(tempfile.mkdtemp(prefix="pn-wrk-")) / "paths.lua"
    lua_paths = ", ".join(f'"{p}"' for p in paths)
    # Each wrk thread has its own Lua state: `setup` numbers them so that their unique
    # parameters never collide (thread k counts from base + k * 10^7; a run sends far fewer),
    # and each run (the warm-up too) draws its own base.
    base = random.randrange(10**6) * 10
    script.write_text(
        f"local paths = {{{lua_paths}}}\n"
        f"local unique = {'true' if unique else 'false'}\n"
        "local i = math.random(#paths)\n"
        "local threads = 0\n"
        "function setup(thread)\n"
        "  threads = threads + 1\n"
        '  thread:set("tid", threads)\n'
        "end\n"
        "local n = nil\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  if not unique then return wrk.format("GET", paths[i]) end\n'
        f"  n = (n or {base} + (tid or 0) * 10000000) + 1\n"
        f'  local extra = string.format("&price_max=%d.%02d", {UNIQUE_BASE} + math.floor(n / 100),'
        " n % 100)\n"
        '  return wrk.format("GET", paths[i] .. extra)\n'
        "end\n"
    )
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(clients),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50%"),
        "p99": ms("99%"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "client": "wrk",
    }


def run_python(port: int, paths: list[str], seconds: int, clients: int, unique: bool) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    numbers = itertools.count(random.randrange(10**6) * 100)

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, bad, i = [], 0, offset
        while time.perf_counter() < stop:
            i = (i + 1) % len(paths)
            start = time.perf_counter()
            try:
                conn.request("GET", paths[i] + (unique_param(next(numbers)) if unique else ""))
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    ms = sorted(x * 1000 for x in latencies)
    return {
        "rps": len(ms) / elapsed,
        "p50": statistics.median(ms),
        "p99": ms[int(len(ms) * 0.99) - 1],
        "errors": errors[0],
        "socket_errors": "",
        "client": "python",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="all")
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", ""),
        help="the cache's Redis (default: $REDIS_URL; none: a file cache)",
    )
    args = parser.parse_args()
    url = bench_url()
    if not database_exists(url):
        recreate_database(url)
    manage(url, "migrate", "--noinput")
    print(manage(url, "seed_catalog").stdout.strip())
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    runner = run_wrk if use_wrk else run_python
    port = free_port()
    server = start_gunicorn(url, port, args.workers, args.threads, args.redis)
    try:
        print(
            f"gunicorn: {args.workers} workers x {args.threads} threads; clients: "
            f"{args.clients} ({'wrk' if use_wrk else 'python'}); cores: {os.cpu_count()}; "
            f"cache: {'redis' if args.redis else 'file'}; load average before: {load()}"
        )
        scenarios = SCENARIOS if args.scenario == "all" else {args.scenario: []}
        for name in scenarios:
            paths, unique = SCENARIOS[name], name in UNIQUE
            runner(port, paths, 3, args.clients, unique)  # warm up: connections, plans, caches
            result = runner(port, paths, args.seconds, args.clients, unique)
            verdict = "OK" if result["rps"] >= 300 and result["p99"] < 120 else "below target"
            print(
                f"{name:<12} {result['rps']:7.1f} req/s   p50 {result['p50']:6.1f} ms   "
                f"p99 {result['p99']:6.1f} ms   non-2xx {result['errors']}  "
                f"{result['socket_errors']}  [{verdict}: >= 300 req/s, p99 < 120 ms]"
            )
        print(f"load average after: {load()}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
