"""Ordering figures: order placement, the status path to delivered, cart reads, and
customers_also_bought over an order history. Prints figures; not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pn_ordering \\
        .venv/bin/python benchmarks/ordering_place.py [--orders 300] [--lines 5]

Runs the migrations, creates its own customer and products-free order lines, and deletes
everything it created at the end.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prime_now.settings")
# Events published here go to a throw-away file broker, not the shared .run/ one.
os.environ.setdefault("PRIME_NOW_RUN_DIR", tempfile.mkdtemp(prefix="pn-bench-ordering-"))

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from ordering import services  # noqa: E402
from ordering.models import Order, SandboxAuthorization  # noqa: E402


def figures(name: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1] if len(ms) >= 20 else ms[-1]
    print(
        f"{name:<34} n={len(ms):<5} p50={statistics.median(ms):7.2f} ms  "
        f"p95={p95:7.2f} ms  max={ms[-1]:7.2f} ms  rate={len(ms) / (sum(ms) / 1000):7.1f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--lines", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(
        f"database: {connection.vendor}; cores: {os.cpu_count()}; "
        f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    user = get_user_model().objects.create(username=f"bench-{uuid.uuid4().hex[:8]}")
    start = timezone.now() + timedelta(hours=2)
    delivery = services.DeliverySnapshot(
        address="1 Bench St",
        postcode="98109",
        lat=47.6,
        lon=-122.3,
        hub_code="BENCH",
        window_id=1,
        window_start=start,
        window_end=start + timedelta(hours=1),
        window_kind="one_hour",
    )
    run = uuid.uuid4().hex[:6].upper()  # fresh SKUs: nothing cached from an earlier run
    pool = [f"B{run}-{i:04d}" for i in range(60)]
    place, replay, path, also = [], [], [], []
    numbers = []
    try:
        for n in range(args.orders):
            lines = [
                services.OrderLineInput(
                    product_id=1000 + (n * 7 + k * 13) % 60,
                    sku=pool[(n * 7 + k * 13) % 60],
                    name="Bench item",
                    unit_price=Decimal("1.99"),
                    quantity=1 + k % 3,
                )
                for k in range(args.lines)
            ]
            body = {
                "customer_id": user.pk,
                "idempotency_key": f"bench-{n}",
                "lines": lines,
                "delivery": delivery,
                "delivery_fee": Decimal("3.99"),
                "tip": Decimal("1.00"),
                "payment_token": "tok_visa",
            }
            t = time.perf_counter()
            order = services.order_place(**body)
            place.append(time.perf_counter() - t)
            numbers.append(order.number)
            if n % 10 == 0:
                t = time.perf_counter()
                services.order_place(**body)
                replay.append(time.perf_counter() - t)
        for number in numbers[: max(1, args.orders // 3)]:
            t = time.perf_counter()
            services.order_mark_picking(number=number)
            services.order_mark_packed(number=number)
            services.order_mark_out_for_delivery(number=number)
            services.order_mark_delivered(number=number)
            path.append(time.perf_counter() - t)
        for sku in pool[:30]:  # each SKU asked once: uncached
            t = time.perf_counter()
            services.customers_also_bought(sku=sku)
            also.append(time.perf_counter() - t)
        figures("order_place (new)", place)
        figures("order_place (same key replay)", replay)
        figures("placed -> delivered (4 calls)", path)
        figures("customers_also_bought (uncached)", also)
        t = time.perf_counter()
        services.orders_for_customer(customer_id=user.pk, limit=20)
        figures("orders_for_customer (20)", [time.perf_counter() - t])
    finally:
        Order.objects.filter(customer=user).delete()
        SandboxAuthorization.objects.filter(
            idempotency_key__startswith=f"order:{user.pk}:"
        ).delete()
        user.delete()


if __name__ == "__main__":
    main()
