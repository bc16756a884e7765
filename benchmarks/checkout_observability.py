"""What logging and metrics cost a checkout: the web process's CPU per checkout, through the
whole middleware stack (Django's test client, a signed-in customer, the JSON API).

    DATABASE_URL=postgres://.../scratch REDIS_URL=redis://127.0.0.1:6379 \\
        .venv/bin/python benchmarks/checkout_observability.py [--checkouts 200] [--rounds 5]

Run it in two checkouts of the code (before and after a change) against two scratch
databases, or in one with LOG_LEVEL=WARNING to see the log lines' share. Prints, per round,
the CPU time of this process per checkout (client and server share the process; the client's
part is the same on both sides), then the median and the spread. Log lines are formatted as
configured and written to /dev/null; events go to the real Redis broker (nothing consumes
them, the queues are emptied at the end). PostgreSQL's own CPU is not counted.
"""

import argparse
import functools
import os
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")
os.environ.setdefault("REDIS_BROKER_DB", "9")
os.environ.setdefault("REDIS_CACHE_DB", "8")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
os.environ["API_THROTTLE_ENABLED"] = "0"  # one customer checks out far above its limit

HUB, POSTCODE, PRODUCTS, LINES = "CPUB", "99998", 200, 8


def setup():  # type: ignore[no-untyped-def]
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database.")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import logging

    devnull = open(os.devnull, "w")  # noqa: SIM115 (kept open for the run)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)


def seed():  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from delivery.models import Window
    from fulfillment.models import Stock
    from tests.catalog.factories import ProductFactory
    from tests.fulfillment.factories import HubFactory, StockFactory

    hub = HubFactory(code=HUB, postcode=POSTCODE, postcodes=[POSTCODE], lat=11.0, lon=11.0)
    skus = []
    for n in range(PRODUCTS):
        product = ProductFactory(sku=f"CPUB-{n:04d}", price=Decimal("1.99") + n % 7)
        if not Stock.objects.filter(hub=hub, product_id=product.id).exists():
            StockFactory(hub=hub, product_id=product.id, sku=product.sku, on_hand=10_000_000)
        skus.append(product.sku)
    start = (timezone.now() + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    window, _ = Window.objects.update_or_create(
        hub_code=HUB,
        kind="one_hour",
        start=start,
        defaults={
            "end": start + timedelta(hours=1),
            "cutoff_at": start - timedelta(minutes=15),
            "fee": Decimal("5.99"),
            "capacity": 10_000_000,
        },
    )
    user, _ = get_user_model().objects.get_or_create(username="cpu-bench")
    return skus, window.pk, user


def place_checkout(client, skus, window_id) -> None:  # type: ignore[no-untyped-def]
    """One 8-line API checkout of random products, under a key no other checkout uses."""
    body = {
        "lines": [{"sku": sku, "quantity": 1} for sku in random.sample(skus, LINES)],
        "address": "1 Bench St",
        "postcode": POSTCODE,
        "window_id": window_id,
        "payment_token": "tok_visa",
    }
    response = client.post(
        "/api/v1/checkout",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.content


def empty_the_queues() -> None:
    """The relayed events nobody consumed (the benchmark's broker database)."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkouts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    setup()
    from django.test import Client

    skus, window_id, user = seed()
    client = Client()
    client.force_login(user)

    checkout = functools.partial(place_checkout, client, skus, window_id)
    for _ in range(20):  # warm: connections, prepared statements, caches
        checkout()
    per_checkout = []
    for round_ in range(args.rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.checkouts):
            checkout()
        cpu_ms = (time.process_time() - cpu) / args.checkouts * 1000
        wall_ms = (time.perf_counter() - wall) / args.checkouts * 1000
        per_checkout.append(cpu_ms)
        print(f"round {round_ + 1}: {cpu_ms:.2f} ms CPU, {wall_ms:.2f} ms wall per checkout")
    print(
        f"median {statistics.median(per_checkout):.2f} ms CPU per checkout "
        f"(min {min(per_checkout):.2f}, max {max(per_checkout):.2f}, {args.rounds} rounds of "
        f"{args.checkouts}; LOG_LEVEL={os.environ.get('LOG_LEVEL', 'INFO')})"
    )
    empty_the_queues()


if __name__ == "__main__":
    main()
