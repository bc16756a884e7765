"""Every door's functions behind their target's fault point and circuit breaker.

A door calls `instrument(globals(), "fulfillment")` after its `__all__`: each public
function is replaced by one that passes the fault point (kernel/faults.py) and the breaker
(kernel/breakers.py) of that target, for every caller (other apps, the storefront, the API).
The app's own code, which imports its modules, not its door, is untouched.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from .breakers import guarded
from .faults import fault_point


def _through(target: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def faulty(*args: Any, **kwargs: Any) -> Any:
        fault_point(target, hub_code=kwargs.get("hub_code"))
        return function(*args, **kwargs)

    @functools.wraps(function)
    def door_call(*args: Any, **kwargs: Any) -> Any:
        return guarded(target, faulty, *args, **kwargs)

    return door_call


def instrument(namespace: dict[str, Any], target: str) -> None:
    """Put each function the door lists in `__all__` behind `target`'s fault point and
    breaker."""
    for name in namespace["__all__"]:
        value = namespace[name]
        if inspect.isfunction(value):
            namespace[name] = _through(target, value)
