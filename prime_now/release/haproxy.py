"""HAProxy in front of the web processes: its configuration, and its runtime API.

Two server slots, `blue` and `green`, on the two ports after the frontend's. The running
version sits in one; a canary starts in the other. Shares move through the runtime API
(`set server ... weight/state`), so HAProxy never reloads and no connection is cut.

A request the canary fails (a 5xx, a refused or dropped connection) is sent again to the other
slot (`retry-on` with `option redispatch`, which picks another server), when it is safe to send
twice: GET and HEAD, or a request with an Idempotency-Key. Clients do not see a broken canary;
its metrics do.
"""

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SLOTS = ("blue", "green")
BACKEND = "app"

CONFIG = """\
global
    stats socket {socket} mode 600 level admin
    log stdout format raw local0 notice

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout queue 30s
    timeout http-request 10s
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 500 502 503 504

frontend web
    bind 127.0.0.1:{port}
    option forwardfor
    # Sent twice only when that cannot do anything twice.
    acl idempotent method GET HEAD
    acl has_key req.hdr(Idempotency-Key) -m found
    http-request disable-l7-retry if !idempotent !has_key
    default_backend {backend}

backend {backend}
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server check inter 1s fall 2 rise 1
{servers}
"""


def slot_port(port: int, slot: str) -> int:
    """The frontend listens on `port`; blue on the next one, green on the one after."""
    return port + 1 + SLOTS.index(slot)


def other(slot: str) -> str:
    return SLOTS[1 - SLOTS.index(slot)]


def render(*, port: int, socket_path: Path, live: str | None) -> str:
    """The configuration: the live slot (if any) takes all traffic, the other is in maintenance."""
    servers = "\n".join(
        f"    server {slot} 127.0.0.1:{slot_port(port, slot)} weight 100"
        + ("" if slot == live else " disabled")
        for slot in SLOTS
    )
    return CONFIG.format(socket=socket_path, port=port, backend=BACKEND, servers=servers)


@dataclass(frozen=True)
class ServerStat:
    status: str  # UP, DOWN, MAINT, DRAIN, no check ...
    weight: int
    current_sessions: int  # requests being served now (HTTP mode: one per connection)


class HAProxy:
    def __init__(self, *, run_dir: Path, port: int) -> None:
        self.port = port
        self.config = run_dir / "haproxy.cfg"
        self.socket = run_dir / "haproxy.sock"
        self.log = run_dir / "haproxy.log"

    def running(self) -> bool:
        try:
            self.command("show info")
        except OSError:
            return False
        return True

    def start(self, *, live: str | None) -> None:
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.config.write_text(render(port=self.port, socket_path=self.socket, live=live))
        subprocess.run([binary, "-c", "-q", "-f", str(self.config)], check=True)
        with self.log.open("ab") as log:
            subprocess.Popen(
                [binary, "-f", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while not self.running():
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy did not start (see {self.log})")
            time.sleep(0.1)

    def stop(self) -> None:
        """Soft stop (SIGUSR1): HAProxy finishes the requests it has, then exits."""
        if not self.running():
            return
        info = dict(
            line.split(": ", 1) for line in self.command("show info").splitlines() if ": " in line
        )
        os.kill(int(info["Pid"]), signal.SIGUSR1)

    def command(self, line: str) -> str:
        """One runtime API command; its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        answer = b"".join(chunks).decode()
        if answer.strip() and not line.startswith("show"):
            raise RuntimeError(f"HAProxy refused {line!r}: {answer.strip()}")
        return answer

    def set_weight(self, slot: str, weight: int) -> None:
        self.command(f"set server {BACKEND}/{slot} weight {weight}")

    def set_state(self, slot: str, state: str) -> None:
        """ready (takes traffic by weight), drain (finishes what it has, takes nothing new),
        maint (out)."""
        self.command(f"set server {BACKEND}/{slot} state {state}")

    def stats(self) -> dict[str, ServerStat]:
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            row["svname"]: ServerStat(
                status=row["status"],
                weight=int(row["weight"] or 0),
                current_sessions=int(row["scur"] or 0),
            )
            for row in rows
            if row["pxname"] == BACKEND and row["svname"] in SLOTS
        }

    def wait_status(self, slot: str, status: str, *, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stats()[slot].status != status:
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy: {slot} is {self.stats()[slot].status}, not {status}")
            time.sleep(0.1)

    def drain(self, slot: str, *, timeout: float = 30.0) -> None:
        """No new requests for `slot`; returns when it has none left in flight."""
        self.set_state(slot, "drain")
        deadline = time.monotonic() + timeout
        while self.stats()[slot].current_sessions and time.monotonic() < deadline:
            time.sleep(0.1)
