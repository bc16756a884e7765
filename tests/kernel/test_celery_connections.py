"""Worker tasks keep their database connection between tasks, unless a task did not succeed."""

import time
from types import SimpleNamespace

import pytest
from celery import signals
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


class _Task:
    """What the signals' receivers read of a task: its request (run eagerly or by a worker)."""

    def __init__(self, *, eager: bool) -> None:
        self.request = SimpleNamespace(is_eager=eager)


def _task(*, eager: bool) -> _Task:
    return _Task(eager=eager)


def _task_finished(task: _Task, state: str) -> None:
    signals.task_postrun.send(
        sender=task, task_id="t-1", task=task, args=(), kwargs={}, retval=None, state=state
    )


def test_a_task_that_succeeded_leaves_its_connection_open_for_the_next():
    # Given a worker task that used the database
    connection.ensure_connection()

    # When it finishes successfully
    _task_finished(_task(eager=False), "SUCCESS")

    # Then the connection stays open
    assert connection.connection is not None


@pytest.mark.parametrize("state", ["FAILURE", "RETRY"])
def test_a_task_that_did_not_succeed_closes_its_connection(state):
    # Given a worker task that used the database
    connection.ensure_connection()

    # When it fails or is retried (it may have been cut off mid-query)
    _task_finished(_task(eager=False), state)

    # Then its connection is closed: the next task opens a fresh one
    assert connection.connection is None


def test_an_eager_task_never_closes_the_callers_connection():
    # Given a task run eagerly, inside the caller's work
    connection.ensure_connection()

    # When it fails
    _task_finished(_task(eager=True), "FAILURE")

    # Then the caller's connection is untouched
    assert connection.connection is not None


@pytest.fixture
def persistent_connection(monkeypatch):
    """The connection as the worker has it: kept for a minute, checked before reuse."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()
    connection.ensure_connection()
    yield connection
    connection.close()


def _task_started(task: _Task) -> None:
    signals.task_prerun.send(sender=task, task_id="t-2", task=task, args=(), kwargs={})


def test_a_task_starting_keeps_a_young_connection_to_be_checked_before_its_next_query(
    persistent_connection,
):
    # Given a connection an earlier task left open, well within CONN_MAX_AGE
    persistent_connection.health_check_done = True

    # When the next task starts
    _task_started(_task(eager=False))

    # Then the connection is kept, and checked before its next query (CONN_HEALTH_CHECKS)
    assert persistent_connection.connection is not None
    assert persistent_connection.health_check_done is False


def test_a_task_starting_closes_a_connection_past_its_age(persistent_connection):
    # Given a connection an earlier task left open, older than CONN_MAX_AGE
    persistent_connection.close_at = time.monotonic() - 1

    # When the next task starts
    _task_started(_task(eager=False))

    # Then the connection is closed: the task opens a fresh one
    assert persistent_connection.connection is None
