"""Where a checkout's CPU goes: the web process's CPU per API checkout, split by part.

    DATABASE_URL=postgres://.../scratch REDIS_URL=redis://127.0.0.1:6379 \\
        .venv/bin/python benchmarks/checkout_parts.py [--checkouts 400]

One process places 8-line checkouts through the whole stack (Django's test client, a customer
signed in with a device token as the mobile app is, throttles off), with `time.process_time`
around each part named in PARTS. Prints the total CPU per checkout (the test client's share
included) and each part's, largest first; the parts nest (knox's authentication is inside
DRF's `initial`, the customer-and-key lookup inside order placement), so they do not add up.
Uses the world of checkout_observability.py (its hub, products and window).
"""

import argparse
import collections
import functools
import importlib
import sys
import time
from collections.abc import Callable
from typing import Any

import checkout_observability as world

PARTS = (
    ("rest_framework.views", "APIView.initial", "DRF: authentication, permissions, throttles"),
    ("knox.auth", "TokenAuthentication.authenticate", "knox: the device token's lookup"),
    ("rest_framework.serializers", "Serializer.is_valid", "DRF: the body's validation"),
    ("delivery.facade.checkout", "checkout_claim", "the idempotency claim"),
    ("delivery.facade.checkout", "_find_hub", "step: the serving hub"),
    ("delivery.facade.checkout", "_price", "step: pricing"),
    ("delivery.facade.checkout", "_hold_window", "step: the window seat"),
    ("delivery.facade.checkout", "_reserve_stock", "step: the stock reservation"),
    ("delivery.facade.checkout", "_place_order", "step: order placement"),
    ("ordering.services.placement", "_earlier_order", "  placement: customer and key lookup"),
    ("ordering.services.placement", "_authorize", "  placement: the payment authorization"),
    ("delivery.facade.checkout", "_confirm", "step: confirm stock and seat"),
    ("prime_now.kernel.bus", "_ask_for_relay", "the relay message after commit"),
)


def timed(parts: collections.Counter[str]) -> None:
    """Wrap each part so that its CPU time adds up in `parts`."""
    for module_name, path, label in PARTS:
        owner: Any = importlib.import_module(module_name)
        *outer, name = path.split(".")
        for attribute in outer:
            owner = getattr(owner, attribute)
        setattr(owner, name, _timer(getattr(owner, name), label, parts))


def _timer(
    function: Callable[..., Any], label: str, parts: collections.Counter[str]
) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            parts[label] += time.process_time() - started

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkouts", type=int, default=400)
    args = parser.parse_args()
    world.setup()
    from django.test import Client

    from prime_now.kernel.tokens import token_issue

    skus, window_id, user = world.seed()
    token = token_issue(user=user, device="bench-parts")[1]
    client = Client(headers={"Authorization": f"Token {token}"})
    parts: collections.Counter[str] = collections.Counter()
    timed(parts)

    checkout = functools.partial(world.place_checkout, client, skus, window_id)
    for _ in range(30):  # warm: connections, prepared statements, caches
        checkout()
    parts.clear()
    started = time.process_time()
    for _ in range(args.checkouts):
        checkout()
    per = 1000 / args.checkouts
    print(f"{(time.process_time() - started) * per:6.2f} ms CPU per checkout in all")
    for label, seconds in parts.most_common():
        print(f"{seconds * per:6.2f} ms  {label}")
    world.empty_the_queues()


if __name__ == "__main__":
    sys.exit(main())
