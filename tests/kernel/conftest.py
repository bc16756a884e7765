from pathlib import Path

import pytest

from prime_now import embedded_db


@pytest.fixture
def embedded_run_dir(tmp_path: Path):
    """A run directory of its own, whose embedded PostgreSQL server (if a test started one)
    is stopped at the end."""
    yield tmp_path
    embedded_db.server_stop(tmp_path)
