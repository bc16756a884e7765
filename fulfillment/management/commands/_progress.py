import sys

from tqdm import tqdm


def progress(iterable, *, total: int | None = None, desc: str = "", stream=None):
    """tqdm on a terminal, silent otherwise (cron, CI logs)."""
    stream = stream or sys.stderr
    return tqdm(iterable, total=total, desc=desc, file=stream, disable=not stream.isatty())
