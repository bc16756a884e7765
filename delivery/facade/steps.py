"""A tiny step runner: a use case as named steps, each returning its value and what undoes it.

On failure the caller undoes the done steps, last first. `current` names the step that was
running, so an error can say where it happened.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Undo = Callable[[], None]


class Steps:
    def __init__(self) -> None:
        self.current = ""
        self._done: list[tuple[str, Undo]] = []

    def run[T](self, name: str, step: Callable[[], tuple[T, Undo | None]]) -> T:
        """Run one step; remember what undoes it (None: nothing to undo)."""
        self.current = name
        value, undo = step()
        if undo is not None:
            self._done.append((name, undo))
        return value

    def undo(self) -> None:
        """Undo the done steps, last first. An undo that fails is logged, never raised: the
        original error is the one to report (and what was held expires on its own)."""
        while self._done:
            name, undo = self._done.pop()
            try:
                undo()
            except Exception:
                logger.exception("undoing step %r failed (its hold will expire)", name)
