"""Page assembly: a widget that fails, overruns or is switched off never takes the page down."""

import threading
import time

import pytest
from django.db import connection
from django.http import HttpResponse

from prime_now.kernel.errors import NotFoundError
from prime_now.kernel.levers import lever_set
from prime_now.storefront.assembly import (
    DEGRADED_HEADER,
    Widget,
    assemble,
    lever_name,
    pool_shutdown,
)
from prime_now.storefront.memo import MISSING
from tests.kernel.worker import wait_for


def boom():
    raise RuntimeError("door is down")


@pytest.mark.django_db
def test_a_failing_widget_degrades_and_the_others_render():
    assembly = assemble("page", [Widget("a", lambda: 1), Widget("b", boom), Widget("c", lambda: 3)])

    assert assembly["a"].value == 1 and assembly["c"].value == 3
    assert assembly["b"].state == "failed" and assembly["b"].value is None
    assert assembly.degraded == ["b"]


@pytest.mark.django_db
def test_the_response_header_names_the_degraded_widgets():
    assembly = assemble("page", [Widget("a", boom), Widget("b", lambda: 2), Widget("c", boom)])

    response = assembly.stamp(HttpResponse("ok"))

    assert response[DEGRADED_HEADER] == "a, c"


@pytest.mark.django_db
def test_no_header_when_nothing_degraded():
    response = assemble("page", [Widget("a", lambda: 1)]).stamp(HttpResponse("ok"))

    assert DEGRADED_HEADER not in response


@pytest.mark.django_db
def test_a_lever_switches_a_widget_off_without_calling_its_door():
    called = []
    lever_set(lever_name("also_bought"), enabled=False, reason="test")

    assembly = assemble("page", [Widget("also_bought", lambda: called.append(1))])

    assert assembly["also_bought"].state == "off"
    assert called == []
    assert assembly.degraded == []  # an operator's choice is not a degradation


@pytest.mark.django_db
def test_a_passthrough_error_is_an_answer_not_a_failure():
    def missing():
        raise NotFoundError("no such product")

    with pytest.raises(NotFoundError):
        assemble("page", [Widget("details", missing, passthrough=(NotFoundError,))])


@pytest.mark.django_db
def test_results_keep_the_declared_order():
    assembly = assemble("page", [Widget(n, lambda n=n: n) for n in ("z", "a", "m")])

    assert list(assembly.results) == ["z", "a", "m"]


@pytest.fixture
def hanging_door():
    """A widget's loader whose door answers only after 5 s (released when the test ends)."""
    release = threading.Event()

    def slow():
        release.wait(5)
        return "late"

    yield slow
    release.set()


# Outside a transaction, as a web request is: widgets then run on the pool, whose threads
# open their own database sessions.
@pytest.mark.django_db(transaction=True)
def test_a_slow_widget_times_out_and_the_page_is_on_time(hanging_door):
    started = time.perf_counter()
    assembly = assemble(
        "page",
        [Widget("fast", lambda: "ok", budget_ms=200), Widget("slow", hanging_door, budget_ms=100)],
    )
    elapsed = time.perf_counter() - started

    assert assembly["fast"].value == "ok"
    assert assembly["slow"].state == "timeout"
    assert assembly.degraded == ["slow"]
    assert elapsed < 1.0


@pytest.mark.django_db(transaction=True)
def test_a_lone_slow_widget_times_out_too(hanging_door):
    # Given a page of one widget whose door hangs; when the page is assembled
    started = time.perf_counter()
    assembly = assemble("page", [Widget("slow", hanging_door, budget_ms=100)])
    elapsed = time.perf_counter() - started

    # Then the page waits out the widget's budget, not the door
    assert assembly["slow"].state == "timeout"
    assert elapsed < 1.0


@pytest.mark.django_db(transaction=True)
def test_widgets_run_side_by_side_outside_a_transaction():
    def nap():
        time.sleep(0.15)
        return threading.current_thread().name

    started = time.perf_counter()
    assembly = assemble("page", [Widget(f"w{i}", nap, budget_ms=1000) for i in range(4)])
    elapsed = time.perf_counter() - started

    assert all(r.ok for r in assembly.results.values())
    assert elapsed < 0.5  # four 150 ms doors, not 600 ms in a row
    assert all(r.value.startswith("storefront-widget") for r in assembly.results.values())


@pytest.mark.django_db(transaction=True)
def test_shutting_the_pool_down_ends_every_widget_threads_database_session():
    # Given four widgets that each queried the database from their own thread
    def backend_pid():
        time.sleep(0.1)  # all four at once: four threads
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    assembly = assemble("page", [Widget(f"w{i}", backend_pid, budget_ms=2000) for i in range(4)])
    pids = {result.value for result in assembly.results.values()}
    assert len(pids) == 4

    # When the pool shuts down
    pool_shutdown()

    # Then none of their sessions is left on the server
    def sessions_left() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)]
            )
            return cursor.fetchone()[0]

    assert wait_for(lambda: sessions_left() == 0, timeout=5)


@pytest.mark.django_db
def test_a_widget_whose_value_is_at_hand_skips_its_loader():
    called = []
    assembly = assemble(
        "page",
        [
            Widget("memo", lambda: called.append("memo"), ready=lambda: "at hand"),
            Widget("cold", lambda: "loaded", ready=lambda: MISSING),
        ],
    )

    assert assembly["memo"].value == "at hand" and called == []
    assert assembly["cold"].value == "loaded"
    assert assembly.degraded == []
