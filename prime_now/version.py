"""The build a process runs: `git describe` of its checkout, read once when the process starts.

The release tool exports a checkout without its `.git` and writes the version beside the code
(`BUILD_VERSION` file); a container build does the same or sets the `BUILD_VERSION` variable.
The version is shown by /readyz, the `prime_now_build_info` metric, every log line and the
admin's footer.
"""

import os
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest

VERSION_FILE = "BUILD_VERSION"


def describe(base_dir: Path) -> str:
    """The variable BUILD_VERSION, else the file of that name in `base_dir`, else
    `git describe --tags --always --dirty` there, else "unknown"."""
    if os.environ.get("BUILD_VERSION"):
        return os.environ["BUILD_VERSION"]
    written = base_dir / VERSION_FILE
    if written.is_file():
        return written.read_text().strip()
    try:
        described = subprocess.run(
            ["git", "-C", str(base_dir), "describe", "--tags", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return described.stdout.strip() or "unknown"


def context(request: HttpRequest) -> dict[str, Any]:
    """Templates' `build_version` (the admin's footer shows it)."""
    return {"build_version": settings.BUILD_VERSION}
