"""Storefront under load: requests/s and latency of the home, listing and product pages.

Starts gunicorn on the configured database (DATABASE_URL, REDIS_URL as for `make run`), seeds
the small demo world if it is missing, and hits each page with 16 concurrent keep-alive clients,
first as a visitor without an address, then as one with an address set (which adds the
delivery promise and availability to every page). The clients are `wrk` when it is installed
(C, two threads: it leaves the two cores to the server), else two Python processes of eight
threads each (which take a good share of the CPU themselves; `--client python` forces them).
A response other than 200, or one naming degraded widgets, counts as an error.

    .venv/bin/python benchmarks/storefront_pages.py [--seconds 10] [--clients 16] [--client wrk]
        [--port N]

Target (issue 9): each page >= 150 requests/s with p99 < 250 ms on the 2-core machine.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


def world() -> tuple[str, str, str]:
    """(department slug, a product sku, a served postcode) from the seeded world."""
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','prime_now.settings');"
        "django.setup();"
        "from catalog import services as c; from fulfillment import services as f;"
        "d = c.department_tree()[0]; p = c.product_search(department=d.slug, page_size=1).items[0];"
        "h = f.hubs_active()[0];"
        "print(d.slug, p.sku, (h.postcodes or (h.postcode,))[0], sep='|')"
    )
    out = subprocess.run(
        [PY, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    dept, sku, postcode = out.strip().splitlines()[-1].split("|")
    return dept, sku, postcode


def session_cookie(port: int, postcode: str) -> str:
    """A visitor session with the address set, obtained through the real form (with CSRF).
    The first request waits for a worker: on a busy machine they take seconds to boot."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/")
    response = conn.getresponse()
    html = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", "")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    body = f"csrfmiddlewaretoken={token}&postcode={postcode}&address=1+Bench+St"
    conn.request(
        "POST",
        "/deliver-to/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": f"http://127.0.0.1:{port}/",
        },
    )
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"could not set the address {postcode}: HTTP {response.status}")
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie", "")).group(1)
    return f"sessionid={session}; csrftoken={csrf_cookie}"


def client_process(port, path, cookie, threads, seconds, warmup, queue) -> None:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start_at = time.monotonic() + warmup
    stop_at = start_at + seconds
    headers = {"Cookie": cookie} if cookie else {}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        bad = 0
        while True:
            began = time.monotonic()
            if began >= stop_at:
                break
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200 and not response.getheader("X-Degraded-Widgets")
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                ok = False
            if began >= start_at:
                mine.append(time.monotonic() - began)
                bad += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    queue.put((latencies, errors[0]))


def measure(port, path, cookie, clients, seconds, warmup=2.0) -> dict:
    processes = 2
    queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=client_process,
            args=(port, path, cookie, clients // processes, seconds, warmup, queue),
        )
        for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    latencies, errors = [], 0
    for _ in procs:
        part, bad = queue.get()
        latencies.extend(part)
        errors += bad
    for proc in procs:
        proc.join()
    latencies.sort()
    count = len(latencies)
    return {
        "rps": count / seconds,
        "p50": statistics.median(latencies) * 1000 if count else 0,
        "p99": latencies[max(0, int(count * 0.99) - 1)] * 1000 if count else 0,
        "errors": errors,
        "count": count,
    }


# wrk counts a response as an error only for a socket error or a non-2xx/3xx status; this
# script also counts the pages that name degraded widgets, and prints the figures we report.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 return end
  for name, _ in pairs(headers) do
    if string.lower(name) == "x-degraded-widgets" then bad = bad + 1 return end
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  local e = summary.errors
  io.write(string.format("PN %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    total + e.connect + e.read + e.write + e.timeout))
end
"""


def measure_wrk(wrk, port, path, cookie, clients, seconds, warmup=2.0) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        base = [wrk, "-t", "2", "-c", str(clients), "--timeout", "5s", "-s", script.name]
        if cookie:
            base += ["-H", f"Cookie: {cookie}"]
        url = f"http://127.0.0.1:{port}{path}"
        if warmup:
            subprocess.run([*base, "-d", f"{warmup:.0f}s", url], capture_output=True, check=True)
        out = subprocess.run(
            [*base, "-d", f"{seconds:.0f}s", url], capture_output=True, text=True, check=True
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("PN "))
    count, duration_us, p50_us, p99_us, errors = (int(v) for v in line.split()[1:])
    return {
        "rps": count / (duration_us / 1e6),
        "p50": p50_us / 1000,
        "p99": p99_us / 1000,
        "errors": errors,
        "count": count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers)"
    )
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk when installed (auto), or the Python clients",
    )
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: any free one)")
    args = parser.parse_args()
    wrk = shutil.which("wrk") if args.client in {"auto", "wrk"} else None
    if args.client == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")
    print("seeding the small demo world (idempotent) and collecting static files ...")
    manage("migrate", "--noinput", "-v0")
    manage("seed_demo", "--small")
    manage("collectstatic", "--noinput", "-v0")
    dept, sku, postcode = world()
    port = args.port or free_port()
    server = subprocess.Popen(
        [
            str(Path(PY).with_name("gunicorn")),
            "prime_now.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            "sync" if args.threads == 1 else "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "0", "LOG_LEVEL": "WARNING"},
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        cookie = session_cookie(port, postcode)
        pages = {"home": "/", "listing": f"/d/{dept}/", "product": f"/p/{sku}/"}
        print(
            f"gunicorn {args.workers} workers x {args.threads} threads, {args.clients} clients "
            f"({'wrk' if wrk else 'Python'}), {args.seconds:.0f} s per page; "
            f"load average before: {os.getloadavg()[0]:.2f}"
        )
        print(f"{'page':<10}{'visitor':<10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for who, jar in (("no addr", ""), (postcode, cookie)):
            for name, path in pages.items():
                if wrk:
                    figures = measure_wrk(wrk, port, path, jar, args.clients, args.seconds)
                else:
                    figures = measure(port, path, jar, args.clients, args.seconds)
                print(
                    f"{name:<10}{who:<10}{figures['rps']:>8.0f}{figures['p50']:>9.1f}"
                    f"{figures['p99']:>9.1f}{figures['errors']:>8}"
                )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
