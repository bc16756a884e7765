"""A separate process that prints a lever's state as it sees it, every 20 ms (for the test
that a change reaches every process within a second)."""

import sys
import time

import django

django.setup()

from prime_now.kernel.levers import lever_on  # noqa: E402

name = sys.argv[1]
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    print("on" if lever_on(name) else "off", flush=True)
    time.sleep(0.02)
