"""The fault drills run only with RUN_DRILLS=1 (`make drills`, a step of `.ci/run`): they
start real servers and workers and take a few minutes, so the everyday suite leaves them out.
They need PostgreSQL (DATABASE_URL) and a `redis-server` binary."""

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.db import connection

from prime_now.kernel.tokens import token_issue
from tests.catalog.factories import ProductFactory
from tests.delivery.facade.conftest import World, checkout_body
from tests.delivery.facade.factories import WindowFactory
from tests.fulfillment.factories import HubFactory, StockFactory
from tests.kernel.factories import UserFactory

from .rig import Process, RedisServer, start_web, start_worker

_postcodes = itertools.count(os.getpid() % 5000)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("RUN_DRILLS") == "1":
        return
    skip = pytest.mark.skip(reason="fault drills run with `make drills` (RUN_DRILLS=1)")
    for item in items:
        if "tests/drills/" in str(item.fspath):
            item.add_marker(skip)


@dataclass
class Rig:
    """The processes every drill shares (module-wide): a Redis, gunicorn, a Celery worker."""

    logs: Path
    redis: RedisServer
    web: Process | None = None
    url: str = ""
    worker: Process | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def ensure_worker(self) -> Process:
        if self.worker is None or self.worker.process.poll() is not None:
            self.worker = start_worker(self.redis.url, self.logs)
        return self.worker

    def stop(self) -> None:
        for process in (self.worker, self.web):
            if process is not None:
                process.stop()
        self.redis.kill()


@pytest.fixture(scope="module")
def rig(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Rig]:
    """The shared processes, and the test database open to the drills as it is to them:
    nothing is rolled back or flushed between drills (a flush under live workers would
    deadlock them); each drill works in a world of its own and checks only that world."""
    if shutil.which("redis-server") is None:
        pytest.fail("the drills need redis-server (apt-get install redis-server)")
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("the drills run on the test database only (see test_drills' first test)")
    logs = tmp_path_factory.mktemp("drills")
    os.environ["DRILL_DIR"] = str(logs)  # where probes.SlowProbed's runs leave their pid
    rig = Rig(logs=logs, redis=RedisServer(logs))
    rig.redis.start()
    with django_db_blocker.unblock():
        try:
            rig.web, rig.url = start_web(rig.redis.url, logs)
            rig.ensure_worker()
            yield rig
        finally:
            rig.stop()


@dataclass
class Shop:
    """A hub with plenty of stock, a roomy window and customers holding API tokens."""

    world: World
    url: str
    tokens: list[str]
    customer_ids: list[int]

    @property
    def hub_code(self) -> str:
        return self.world.hub.code

    def checkout(self, *, customer: int = 0, key: str = "", timeout: float = 30, **body):
        """POST /api/v1/checkout as this customer; the response."""
        return requests.post(
            f"{self.url}/api/v1/checkout",
            json=checkout_body(self.world, postcode=self.world.postcode, **body),
            headers={
                "Authorization": f"Token {self.tokens[customer]}",
                "Idempotency-Key": key or uuid.uuid4().hex,
            },
            timeout=timeout,
        )


@pytest.fixture
def shop(rig) -> Shop:
    # A hub and a postcode of its own: the drills share one database, and the web processes
    # remember a postcode's hub for a few seconds.
    code = f"drill-{uuid.uuid4().hex[:8]}"
    hub = HubFactory(code=code, postcodes=[f"9{next(_postcodes):04d}"])
    world = World(hub=hub, window=WindowFactory(hub_code=code, capacity=100_000))
    for _ in range(3):
        product = ProductFactory()
        world.products.append(product)
        world.stock[product.sku] = StockFactory(
            hub=hub, product_id=product.id, sku=product.sku, name=product.name, on_hand=100_000
        )
    world.postcode = hub.postcodes[0]
    customers = [UserFactory(roles=["customer"]) for _ in range(8)]
    tokens = [token_issue(user=customer)[1] for customer in customers]
    return Shop(world=world, url=rig.url, tokens=tokens, customer_ids=[c.pk for c in customers])
