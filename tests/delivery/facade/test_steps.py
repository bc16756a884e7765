"""The step runner checkout is written with: named steps, each returning what undoes it."""

import pytest

from delivery.facade.steps import Steps


def test_a_failing_step_leaves_the_done_steps_to_be_undone_last_first():
    # Given two steps done, each with its undo, and a third that fails
    undone = []
    steps = Steps()
    steps.run("hold", lambda: ("seat", lambda: undone.append("hold")))
    steps.run("price", lambda: ("prices", None))
    steps.run("reserve", lambda: ("stock", lambda: undone.append("reserve")))

    def fail():
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        steps.run("order", fail)

    # When the caller undoes them
    steps.undo()

    # Then the steps with an undo are undone in reverse, and the failing step is named
    assert undone == ["reserve", "hold"]
    assert steps.current == "order"


def test_a_step_gives_its_value():
    assert Steps().run("price", lambda: (42, None)) == 42


def test_an_undo_that_fails_does_not_stop_the_others():
    # Given two done steps whose later undo fails
    undone = []
    steps = Steps()
    steps.run("hold", lambda: (None, lambda: undone.append("hold")))

    def broken_undo():
        raise ConnectionError("gone")

    steps.run("reserve", lambda: (None, broken_undo))

    # When they are undone, then the failure is logged and the earlier undo still runs
    steps.undo()

    assert undone == ["hold"]


def test_undoing_twice_undoes_once():
    undone = []
    steps = Steps()
    steps.run("hold", lambda: (None, lambda: undone.append("hold")))

    steps.undo()
    steps.undo()

    assert undone == ["hold"]
