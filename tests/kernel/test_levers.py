"""Levers: declared in code, created on migrate, audited, read without a query, never failing."""

import os
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection

from prime_now.kernel import levers
from prime_now.kernel.levers import UnknownLeverError, declared, lever_on, lever_set
from prime_now.kernel.models import Lever, LeverChange
from tests.kernel.factories import UserFactory
from tests.kernel.worker import ROOT

pytestmark = pytest.mark.django_db

SOME = "storefront-also-bought"
REQUIRED = {
    "storefront-also-bought",
    "storefront-search-suggestions",
    "catalog-typo-search",
    "storefront-availability-badges",
    "storefront-next-window",
    "delivery-precise-promise",
    "delivery-courier-batching",
    "storefront-sign-ups",
    "delivery-windows-ahead",
    "fulfillment-reports",
    "storefront-images",
}


def test_every_declared_lever_exists_after_migrate_at_its_default():
    rows = {lever.name: lever for lever in Lever.objects.all()}

    assert set(declared()) >= REQUIRED
    for name, spec in declared().items():
        assert rows[name].enabled == spec.default
        assert rows[name].owner == spec.owner and rows[name].description == spec.sheds


def test_a_change_is_audited_with_who_why_and_old_to_new():
    operator = UserFactory(is_staff=True)

    changed = lever_set(SOME, enabled=False, reason="db at 90%", actor=operator)

    change = LeverChange.objects.get()
    assert changed and not lever_on(SOME)
    assert (change.lever.name, change.old, change.new) == (SOME, True, False)
    assert change.actor == operator and change.reason == "db at 90%" and not change.automatic


def test_setting_a_lever_to_its_state_changes_nothing():
    assert lever_set(SOME, enabled=True, reason="already on") is False
    assert LeverChange.objects.count() == 0


def test_an_undeclared_lever_is_refused():
    with pytest.raises(UnknownLeverError):
        lever_set("no-such-lever", enabled=False, reason="x")
    with pytest.raises(UnknownLeverError):
        lever_on("no-such-lever")


def test_reading_a_lever_costs_no_database_query(django_assert_num_queries):
    lever_set(SOME, enabled=False, reason="x")  # publishes the states to the shared cache
    levers.forget_snapshot()  # as in another process

    with django_assert_num_queries(0):
        for _ in range(100):
            assert lever_on(SOME) is False


def test_an_unreadable_store_gives_the_declared_safe_values(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(levers.cache, "get", down)
    monkeypatch.setattr(levers, "_from_database", down)

    assert all(lever_on(name) is spec.safe for name, spec in declared().items())


def test_an_unreadable_store_keeps_the_last_states_read(monkeypatch):
    lever_set(SOME, enabled=False, reason="x")
    monkeypatch.setattr(levers, "REFRESH_SECONDS", 0)

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(levers.cache, "get", down)

    assert lever_on(SOME) is False


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_change_reaches_another_process_within_a_second():
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "prime_now.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": settings.CACHE_KEY_PREFIX,
        "REDIS_CACHE_DB": "14",
        "PRIME_NOW_RUN_DIR": str(ROOT / ".run" / f"probe-{os.getpid()}"),
    }
    probe = subprocess.Popen(
        [sys.executable, "-m", "tests.kernel.lever_probe", SOME],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert probe.stdout is not None
        assert probe.stdout.readline().strip() == "on"
        seen = threading.Event()

        def watch():
            for line in probe.stdout:
                if line.strip() == "off":
                    seen.set()
                    return

        threading.Thread(target=watch, daemon=True).start()
        pulled_at = time.monotonic()
        lever_set(SOME, enabled=False, reason="x")

        assert seen.wait(timeout=5)
        assert time.monotonic() - pulled_at < 1.0
    finally:
        probe.kill()
        probe.wait()


def test_the_lever_command_lists_pulls_and_restores():
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("lever", "pull", SOME, "--reason", "on-call drill", stdout=out)
    call_command("lever", "list", stdout=out)
    assert f"OFF  {SOME}" in out.getvalue()
    call_command("lever", "restore", SOME, "--reason", "drill over", stdout=out)

    assert lever_on(SOME)
    assert [c.reason for c in LeverChange.objects.order_by("at")] == ["on-call drill", "drill over"]
    with pytest.raises(CommandError):
        call_command("lever", "pull", "nope", "--reason", "x")
