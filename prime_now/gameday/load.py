"""The game day's load: a small HTTP client (the standard library's) that plays shoppers against
a running stack on a loopback address only: promise lookups, storefront pages with an address
chosen, and checkouts through the API. The checkouts are spread over a crowd of signed-in
customers, as real traffic is: one customer checking out many times a second would meet the
API's per-customer limits (429), which no fault caused. The promise is public and counted per
client address, here always 127.0.0.1: a scenario keeps its rate under that limit. Every
answer is recorded with its time, status, latency and whether it was degraded (a stale or
conservative promise, a page with degraded widgets)."""

from __future__ import annotations

import http.cookiejar
import ipaddress
import json
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

DEGRADED_HEADER = "X-Degraded-Widgets"
TIMEOUT_SECONDS = 10.0


class NotLoopbackError(ValueError):
    pass


def check_loopback(base_url: str) -> str:
    """The base URL, if its host is a loopback address (a game day never leaves the machine)."""
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host:
        raise NotLoopbackError(f"{base_url}: an http://host:port URL is expected")
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, parts.port or 80)}
    except OSError as exc:
        raise NotLoopbackError(f"{host}: {exc}") from exc
    if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise NotLoopbackError(f"{host} is not a loopback address: game days stay on 127.0.0.1")
    return base_url.rstrip("/")


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the run started
    kind: str  # promise | page | checkout
    status: int  # 0: no answer (connection refused, timeout)
    ms: float
    degraded: bool = False
    order: str = ""
    code: str = ""  # a refused checkout's error code (payment_unavailable, window_full, ...)
    customer: int = -1  # who placed the order: an index into Shop.tokens


@dataclass
class Shop:
    """What the shoppers need to know: where, what, and the customers' API tokens."""

    postcode: str
    pages: list[str]
    skus: list[str]
    tokens: list[str] = field(default_factory=list)

    def customer(self) -> int:
        """A customer for the next API call, drawn at random from the crowd."""
        return random.randrange(len(self.tokens)) if self.tokens else -1

    def auth(self, customer: int) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[customer]}"} if customer >= 0 else {}


@dataclass
class Recorder:
    started: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def now(self) -> float:
        return time.monotonic() - self.started


class Shopper:
    """One simulated shopper (a thread): its own cookies for the pages; its checkouts go out
    as one of the shop's customers, drawn per checkout."""

    def __init__(self, base: str, shop: Shop, recorder: Recorder) -> None:
        self.base, self.shop, self.recorder = base, shop, recorder
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.windows: list[dict[str, Any]] = []

    def _request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()
        except (urllib.error.URLError, OSError):
            return 0, {}, b""

    def choose_address(self) -> None:
        self._request("GET", "/")
        token = next((c.value for c in self.jar if c.name == "csrftoken"), "")
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token,
                "postcode": self.shop.postcode,
                "address": "1 Game Day St",
            }
        ).encode()
        self._request(
            "POST",
            "/deliver-to/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": self.base + "/",
            },
        )

    def promise(self) -> None:
        started = time.perf_counter()
        query = urllib.parse.urlencode({"postcode": self.shop.postcode})
        status, _, body = self._request("GET", f"/api/v1/delivery/promise?{query}")
        ms = (time.perf_counter() - started) * 1000
        degraded = False
        if status == 200:
            data = json.loads(body)
            degraded = bool(data.get("stale") or data.get("conservative"))
            if not degraded and data.get("windows"):
                self.windows = data["windows"]
        self.recorder.add(Sample(self.recorder.now(), "promise", status, ms, degraded))

    def page(self) -> None:
        path = random.choice(self.shop.pages)
        started = time.perf_counter()
        status, headers, _ = self._request("GET", path)
        ms = (time.perf_counter() - started) * 1000
        degraded = DEGRADED_HEADER in headers or DEGRADED_HEADER.lower() in headers
        self.recorder.add(Sample(self.recorder.now(), "page", status, ms, degraded))

    def checkout(self) -> None:
        if not self.windows:
            self.promise()
        open_windows = [w for w in self.windows if w.get("available", 0) > 0]
        customer = self.shop.customer()
        if not open_windows or customer < 0:
            return
        window = max(open_windows, key=lambda w: w["available"])
        body = json.dumps(
            {
                "lines": [{"sku": random.choice(self.shop.skus), "quantity": 1}],
                "address": "1 Game Day St",
                "postcode": self.shop.postcode,
                "window_id": window["id"],
                "payment_token": "tok_visa",
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": f"gameday-{uuid.uuid4().hex}",
            **self.shop.auth(customer),
        }
        started = time.perf_counter()
        status, _, answer = self._request("POST", "/api/v1/checkout", body=body, headers=headers)
        ms = (time.perf_counter() - started) * 1000
        order = code = ""
        if status == 201:
            order = json.loads(answer).get("order_number", "")
        else:
            code = _error_code(answer)
            if status == 409:
                self.windows = []  # a full window: ask the promise again
        self.recorder.add(
            Sample(self.recorder.now(), "checkout", status, ms, False, order, code, customer)
        )

    def order_visible(self, number: str, customer: int) -> bool:
        status, _, _ = self._request(
            "GET", f"/api/v1/orders/{number}", headers=self.shop.auth(customer)
        )
        return status == 200

    def cancel(self, number: str, customer: int) -> None:
        self._request(
            "POST",
            f"/api/v1/orders/{number}/cancel",
            body=json.dumps({"reason": "game day"}).encode(),
            headers={"Content-Type": "application/json", **self.shop.auth(customer)},
        )


def _error_code(body: bytes) -> str:
    """The code of an API error ({"error": {"code": ...}}), or "" for any other answer."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return ""
    return str(error.get("code", "")) if isinstance(error, dict) else ""


class Load:
    """Threads sending a mix of requests at a rate, which the runner changes per phase."""

    def __init__(self, base: str, shop: Shop, recorder: Recorder, *, concurrency: int,
                 mix: dict[str, float], max_requests: int) -> None:  # fmt: skip
        self.base, self.shop, self.recorder = base, shop, recorder
        self.concurrency, self.max_requests = concurrency, max_requests
        self.kinds = [k for k in mix if mix[k] > 0]
        self.weights = [mix[k] for k in self.kinds]
        self.rate = 1.0
        self.promise_multiplier = 1.0
        self.stopping = threading.Event()
        self.sent = 0
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for _ in range(self.concurrency):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=TIMEOUT_SECONDS + 1)

    def _take(self) -> bool:
        with self.lock:
            if self.sent >= self.max_requests:
                return False
            self.sent += 1
            return True

    def _run(self) -> None:
        shopper = Shopper(self.base, self.shop, self.recorder)
        shopper.choose_address()
        while not self.stopping.is_set() and self._take():
            # A spike multiplies the promise's share; the other kinds keep their rate.
            weights = [
                w * (self.promise_multiplier if k == "promise" else 1.0)
                for k, w in zip(self.kinds, self.weights, strict=True)
            ]
            rate = self.rate * sum(weights) / sum(self.weights)
            started = time.monotonic()
            getattr(shopper, random.choices(self.kinds, weights)[0])()
            pause = self.concurrency / rate - (time.monotonic() - started)
            self.stopping.wait(max(0.0, pause))
