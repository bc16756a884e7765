"""Circuit breakers: open after repeated failures, fail at once while open, close after a
successful trial; answers (ApplicationError) never count; a slow call counts but keeps its
result; the state is shared through the cache."""

import time

import pytest

from prime_now.kernel import breakers
from prime_now.kernel.breakers import BreakerOpenError, breaker_states, guarded
from prime_now.kernel.errors import NotFoundError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_breakers(settings):
    settings.BREAKERS = {"catalog": {"fail_max": 3, "reset_seconds": 0.3, "budget_ms": 50}}
    breakers.forget()


def boom():
    raise ConnectionError("down")


def fail(times: int) -> None:
    for _ in range(times):
        with pytest.raises((ConnectionError, BreakerOpenError)):
            guarded("catalog", boom)


def test_after_fail_max_failures_calls_fail_at_once_without_running():
    fail(3)
    calls = []

    with pytest.raises(BreakerOpenError):
        guarded("catalog", lambda: calls.append(1))

    assert calls == [] and breaker_states()["catalog"] == "open"


def test_answers_do_not_count_as_failures():
    def missing():
        raise NotFoundError("no such product")

    for _ in range(5):
        with pytest.raises(NotFoundError):
            guarded("catalog", missing)

    assert breaker_states()["catalog"] == "closed"


def test_a_slow_call_keeps_its_result_but_counts_as_a_failure():
    def slow():
        time.sleep(0.06)
        return "late"

    results = [guarded("catalog", slow) for _ in range(3)]

    assert results == ["late"] * 3
    assert breaker_states()["catalog"] == "open"


def test_a_successful_trial_after_the_reset_time_closes_it():
    fail(3)
    time.sleep(0.35)

    assert guarded("catalog", lambda: "ok") == "ok"
    assert breaker_states()["catalog"] == "closed"


def test_another_process_sees_the_open_breaker():
    fail(3)
    breakers.forget()  # as another process: fresh breakers, only the shared cache in common

    with pytest.raises(BreakerOpenError):
        guarded("catalog", lambda: "not called")


def slow_reset(settings) -> None:
    settings.BREAKERS = {"catalog": {"fail_max": 3, "reset_seconds": 60}}
    breakers.forget()


def test_metrics_show_breaker_states(client, settings):
    from tests.kernel.factories import UserFactory

    slow_reset(settings)
    fail(3)
    client.force_login(UserFactory(is_staff=True))  # an operator may read the metrics

    body = client.get("/metrics").content.decode()

    assert 'breaker_state{breaker="catalog"} 2.0' in body
    assert 'breaker_state{breaker="fulfillment"} 0.0' in body


def test_the_admin_shows_the_breakers_live(client, settings):
    from tests.kernel.factories import UserFactory

    slow_reset(settings)
    fail(3)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get("/admin/kernel/fault/")

    assert page.status_code == 200
    assert "Circuit breakers" in page.text and "<strong>open</strong>" in page.text


def test_while_the_trial_call_runs_the_other_calls_fail_at_once():
    import threading

    fail(3)
    time.sleep(0.35)
    trial_started, release = threading.Event(), threading.Event()

    def trial():
        trial_started.set()
        release.wait(5)
        return "ok"

    runner = threading.Thread(target=lambda: guarded("catalog", trial))
    runner.start()
    trial_started.wait(5)
    try:
        with pytest.raises(BreakerOpenError):
            guarded("catalog", lambda: "not called")
    finally:
        release.set()
        runner.join()
    assert breaker_states()["catalog"] == "closed"
