"""The fault drills, as tests: each breaks a real part under real processes and checks that
no order is lost, nothing is charged or ordered twice and no response is a 500; each prints
its figure. Run with `make drills`."""

import os
import signal
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet

from fulfillment.models import PickJob
from ordering.models import Order, SandboxAuthorization
from ordering.payments import provider_get
from prime_now.kernel import bus
from prime_now.kernel.batch import _lock_key
from prime_now.kernel.models import DeadLetter
from tests.kernel.broker import broker_at
from tests.kernel.poison_probe import PoisonProbed, digested

from . import probes
from .rig import QUEUE_NAMES, figure, run_command, start_beat, start_command, start_worker, wait_for

pytestmark = [pytest.mark.slow]
# The drills share one database without rollbacks (see conftest.rig); they run in file order.
BACK_WITHIN = 120  # seconds: a dead worker's work completes this soon after a new one starts


@pytest.mark.django_db
def test_the_drills_run_on_the_migrated_test_database():
    # This marked test makes pytest-django create the test database for the session; the
    # drills themselves use it without the mark (no rollback, no flush: see conftest.rig).
    assert connection.settings_dict["NAME"].startswith("test_")


def publish(rig, event) -> None:
    with broker_at(f"{rig.redis.url}/0"), transaction.atomic():
        bus.publish(event)


def orders(shop) -> QuerySet[Order]:
    """The orders of this drill's world."""
    return Order.objects.filter(hub_code=shop.hub_code)


def every_order_has_its_pick_job(shop) -> bool:
    numbers = set(orders(shop).values_list("number", flat=True))
    return numbers <= set(
        PickJob.objects.filter(order_ref__in=numbers).values_list("order_ref", flat=True)
    )


def test_a_worker_child_killed_mid_task_the_work_happens_once_soon_after(rig, shop):
    # Given a worker running a long task (a handler that takes 30 s the first time)
    rig.ensure_worker()
    probe = uuid.uuid4().hex[:10]
    publish(rig, probes.SlowProbed(probe_id=probe))
    assert wait_for(lambda: probes.running_pid(probe), timeout=30), "the task never started"

    # When its pool child is killed with -9
    killed_at = time.monotonic()
    os.kill(probes.running_pid(probe), signal.SIGKILL)

    # Then the task is given to another child and its side effect happens once
    assert wait_for(lambda: probes.done(probe), timeout=BACK_WITHIN)
    took = time.monotonic() - killed_at
    time.sleep(1)
    assert probes.done(probe) == 1
    figure("kill -9 worker child", completed_after_s=round(took, 1), side_effects=1)


def test_a_whole_worker_killed_mid_task_its_work_completes_once_after_a_new_one_starts(rig, shop):
    # Given a worker running a long task
    worker = rig.ensure_worker()
    probe = uuid.uuid4().hex[:10]
    publish(rig, probes.SlowProbed(probe_id=probe))
    assert wait_for(lambda: probes.running_pid(probe), timeout=30), "the task never started"

    # When the whole worker is killed with -9 (its children with it) and a new one starts
    worker.kill_all()
    started = time.monotonic()
    rig.worker = start_worker(rig.redis.url, rig.logs)

    # Then the task comes back (visibility timeout) and completes once, within 2 minutes
    assert wait_for(lambda: probes.done(probe), timeout=BACK_WITHIN), rig.worker.output()[-3000:]
    took = time.monotonic() - started
    time.sleep(1)
    assert probes.done(probe) == 1
    figure("kill -9 whole worker", completed_after_new_worker_s=round(took, 1), side_effects=1)


def test_redis_stopped_during_checkouts_never_gives_a_500_and_loses_no_order(rig, shop):
    # Given customers checking out steadily, and beat relaying the outbox
    rig.ensure_worker()
    beat = start_beat(rig.redis.url, rig.logs)
    statuses: list[int] = []
    stop = threading.Event()
    probe = uuid.uuid4().hex[:10]
    bodies: list[str] = []

    def buyer(customer: int) -> None:
        while not stop.is_set():
            response = shop.checkout(customer=customer)
            statuses.append(response.status_code)
            if response.status_code not in (201, 503):
                bodies.append(response.text[:300])

    try:
        with ThreadPoolExecutor(4) as pool:
            for customer in range(4):
                pool.submit(buyer, customer)
            # When Redis is stopped for 5 s mid-way, a task running, then started again (empty)
            time.sleep(4)
            publish(rig, probes.SlowProbed(probe_id=probe, seconds=8))
            running = wait_for(lambda: probes.running_pid(probe), timeout=30)
            rig.redis.kill()
            down_from = len(statuses)
            time.sleep(5)
            rig.redis.start()
            down_until = len(statuses)
            time.sleep(4)
            stop.set()

        # Then every answer was 201 or 503, and once Redis is back every order is picked
        assert running, "the probe's task never started"
        assert set(statuses) <= {201, 503}, (statuses, bodies[:3])
        assert orders(shop).count() == statuses.count(201)
        back = time.monotonic()
        picked = wait_for(lambda: every_order_has_its_pick_job(shop), timeout=90)
        assert picked, rig.worker.output()[-6000:] if rig.worker else "no worker"
        # and the task that ran through the outage had its effect once
        assert probes.done(probe) == 1
        figure(
            "Redis stopped 5 s during checkouts",
            checkouts=len(statuses),
            while_down=down_until - down_from,
            answered_201=statuses.count(201),
            answered_503=statuses.count(503),
            answered_500=statuses.count(500),
            all_picked_within_s=round(time.monotonic() - back, 1),
        )
    finally:
        beat.stop()


def test_the_web_database_connection_killed_mid_checkout_is_a_503_and_a_retry_orders_once(
    rig, shop
):
    # Given a checkout waiting on a slow payment processor (5 s), its transaction open
    key = uuid.uuid4().hex
    answers: list = []
    first = threading.Thread(
        target=lambda: answers.append(shop.checkout(key=key, payment_token="tok_slow"))
    )
    first.start()
    in_checkout = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND state = 'idle in transaction' AND pid <> pg_backend_pid() "
        "AND query LIKE '%%idempotency_key%%' AND query LIKE '%%kernel_user%%'"
    )

    def checkout_backend():
        with connection.cursor() as cursor:
            cursor.execute(in_checkout)
            row = cursor.fetchone()
        return row[0] if row else None

    assert wait_for(checkout_backend, timeout=10), "the checkout never opened its transaction"

    # When the web process's database connection is terminated mid-checkout
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [checkout_backend()])
    first.join(timeout=30)

    # Then the customer gets a 503 with Retry-After, and nothing was ordered
    (response,) = answers
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]
    assert not orders(shop).exists()
    # And a retry with the same key places exactly one order
    retried = shop.checkout(key=key, payment_token="tok_slow")
    again = shop.checkout(key=key, payment_token="tok_slow")
    assert (retried.status_code, again.status_code) == (201, 201), retried.text
    assert orders(shop).count() == 1
    held = SandboxAuthorization.objects.filter(
        status="authorized", idempotency_key__startswith=f"order:{shop.customer_ids[0]}:"
    )
    assert held.count() == 1
    figure(
        "pg_terminate_backend mid-checkout",
        first_answer=response.status_code,
        retry_answer=retried.status_code,
        orders=1,
        authorizations_held=1,
    )


def test_a_poison_event_is_dead_lettered_after_bounded_retries_while_others_flow(rig, shop):
    # Given a worker, one event whose handler always fails and five healthy ones
    rig.ensure_worker()
    poison = f"poison-{uuid.uuid4().hex[:8]}"
    healthy = [uuid.uuid4().hex[:10] for _ in range(5)]
    started = time.monotonic()
    publish(rig, PoisonProbed(probe_id=poison, poison=True))
    for probe in healthy:
        publish(rig, PoisonProbed(probe_id=probe))

    # Then the healthy ones are handled, and the poison one leaves one dead letter
    assert wait_for(lambda: all(digested(p) for p in healthy), timeout=30)
    flowed = time.monotonic() - started
    letters = DeadLetter.objects.filter(last_error__contains=poison)
    assert wait_for(letters.exists, timeout=60), rig.worker.output()[-3000:]
    letter = letters.get()
    assert letter.attempts == 4 and poison in letter.last_error  # 1 run + 3 retries
    assert digested(poison) == 0
    figure(
        "poison event",
        healthy_handled_within_s=round(flowed, 1),
        dead_lettered_after_s=round(time.monotonic() - started, 1),
        attempts=letter.attempts,
        dead_letters=1,
    )


def test_a_slow_payment_provider_holds_only_its_own_worker(rig, shop):
    # Given one checkout held 5 s by a slow processor
    slow: list = []
    held = threading.Thread(target=lambda: slow.append(shop.checkout(payment_token="tok_slow")))
    held.start()
    time.sleep(0.5)

    # When other customers check out meanwhile
    latencies = []
    for customer in range(1, 7):
        began = time.monotonic()
        response = shop.checkout(customer=customer)
        latencies.append(time.monotonic() - began)
        assert response.status_code == 201, response.text
    held.join(timeout=30)

    # Then they are served at their usual pace by the other workers; the slow one places too
    assert slow[0].status_code == 201
    assert max(latencies) < 3
    figure(
        "slow payment provider (5 s)",
        others_p50_s=round(statistics.median(latencies), 2),
        others_max_s=round(max(latencies), 2),
        slow_checkout=slow[0].status_code,
    )


def test_the_reconciler_redrives_a_dropped_order_placed_and_voids_an_orphaned_authorization(
    rig, shop
):
    # Given no worker running, an order placed, and its OrderPlaced lost (Redis emptied, as a
    # restart without persistence does)
    if rig.worker is not None:
        rig.worker.stop()
        rig.worker = None
    response = shop.checkout()
    assert response.status_code == 201, response.text
    number = response.json()["order_number"]
    rig.redis.client(0).delete(*QUEUE_NAMES)
    rig.ensure_worker()
    # and a card authorization whose checkout died before its order was written
    orphan = provider_get().authorize(
        token="tok_visa", amount_minor=1999, currency="USD", idempotency_key=uuid.uuid4().hex
    )
    assert not PickJob.objects.filter(order_ref=number).exists()

    # When the reconciler runs (beat runs it every minute; here by hand, past its grace)
    result = run_command(
        rig.redis.url,
        "reconcile",
        RECONCILE_GRACE_SECONDS="0",
        RECONCILE_AUTHORIZATION_GRACE_SECONDS="0",
    )

    # Then the order has its pick job and the authorization is voided, each counted
    assert result.returncode == 0, result.stderr
    assert "placed_without_pick_job: 0" not in result.stdout, result.stdout
    assert "authorizations_voided: 0" not in result.stdout, result.stdout
    assert PickJob.objects.filter(order_ref=number).count() == 1
    assert SandboxAuthorization.objects.get(reference=orphan.reference).status == "voided"
    figure("reconciler", redriven_order_placed=1, voided_authorizations=1)


def test_the_same_batch_command_twice_at_once_the_second_refuses(rig, shop, tmp_path):
    # Given a catalog import big enough to run for a few seconds (and no worker: the drill
    # is about the command, not the 20,000 events it publishes)
    if rig.worker is not None:
        rig.worker.stop()
        rig.worker = None
    source = tmp_path / "catalog.csv"
    source.write_text(
        "sku,name,department,department_name,category,category_name,price\n"
        + "".join(
            f"PN-9{n:05d},Drill item {n},drill,Drill,drill-items,Items,{n % 90 + 1}.99\n"
            for n in range(20_000)
        )
    )

    # When it is started, and started again while the first run holds its lock
    first = start_command(rig.redis.url, "import_catalog", str(source))
    assert wait_for(advisory_lock_held, timeout=30), first.communicate()[0]
    started = time.monotonic()
    second = run_command(rig.redis.url, "import_catalog", str(source))
    refused_in = time.monotonic() - started
    first_out = first.communicate(timeout=300)[0]

    # Then the second exits at once, non-zero, saying why; the first imports everything
    assert second.returncode == 3, second.stdout + second.stderr
    assert "already running" in second.stderr
    assert first.returncode == 0, first_out
    assert "20000 were created" in first_out, first_out
    figure(
        "batch command twice at once",
        second_exit=second.returncode,
        second_refused_in_s=round(refused_in, 1),
        first_imported=20_000,
    )


def advisory_lock_held() -> bool:
    """import_catalog's own lock is held in this database (not any advisory lock on the
    server: a beat, another database's run)."""
    key = _lock_key("import_catalog")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s AND objid = %s AND objsubid = 1",
            [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF],
        )
        return bool(cursor.fetchone()[0])
