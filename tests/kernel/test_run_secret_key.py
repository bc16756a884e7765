"""Outside production each checkout makes its own secret key under .run/, once, and keeps it."""

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prime_now.settings import run_secret_key

ROOT = Path(__file__).resolve().parents[2]


def test_a_run_directory_gets_a_long_random_key_only_its_owner_reads(tmp_path):
    key = run_secret_key(tmp_path)

    assert len(key) >= 50
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_the_key_is_made_once_and_reused(tmp_path):
    assert run_secret_key(tmp_path) == run_secret_key(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_two_checkouts_get_different_keys(tmp_path):
    assert run_secret_key(tmp_path / "one") != run_secret_key(tmp_path / "two")


def test_processes_starting_together_agree_on_one_key(tmp_path):
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: run_secret_key(tmp_path), range(32)))

    assert len(keys) == 1


def test_without_a_secret_key_set_every_process_of_the_checkout_uses_its_own(tmp_path):
    # Given no SECRET_KEY in the environment (as under `make run`)
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(
        DJANGO_SETTINGS_MODULE="prime_now.settings",
        PRIME_NOW_RUN_DIR=str(tmp_path),
        DATABASE_URL="postgres://app@db.internal:5432/prime_now",
    )

    # When the settings load
    shown = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    # Then the key is the checkout's, whatever its run directory
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == (ROOT / ".run" / "secret_key").read_text()
