"""Every import-linter contract can fail: plant one illegal import per contract in a
throwaway copy of the tree and show that lint-imports rejects it. A plant in a module that
exists is added to its end (a layers contract is broken by a module of a low layer that
imports one above it)."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "prime_now",
    "catalog",
    "fulfillment",
    "ordering",
    "delivery",
    "insights",
    "notifications",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# contract id -> (file to plant, the illegal import)
PLANTS = {
    "catalog-doors": ("fulfillment/_planted.py", "import catalog.models"),
    "fulfillment-doors": ("delivery/_planted.py", "import fulfillment.models"),
    "ordering-doors": ("delivery/_planted.py", "import ordering.models"),
    "delivery-doors": ("prime_now/storefront/_planted.py", "import delivery.models"),
    "insights-doors": ("prime_now/storefront/_planted.py", "import insights.models"),
    "notifications-doors": ("prime_now/storefront/_planted.py", "import notifications.models"),
    "direction": ("catalog/_planted.py", "import ordering.services"),
    "apps-never-import-the-edge": ("catalog/_planted.py", "import prime_now.settings"),
    # Inside each app: its models import its services (a floor calling up).
    **{
        f"{app}-layers": (f"{app}/models", f"import {app}.services")
        for app in ("catalog", "fulfillment", "ordering", "delivery", "insights", "notifications")
    },
    "kernel-layers": ("prime_now/kernel/models", "import prime_now.kernel.bus"),
}
SIBLINGS = ("ordering/_planted.py", "import fulfillment.services")


def contract_ids() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "importlinter.ini")
    prefix = "importlinter:contract:"
    return [name[len(prefix) :] for name in config.sections() if name.startswith(prefix)]


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "importlinter.ini", tmp_path)
    return tmp_path


def lint_imports(tree: Path, *contracts: str) -> subprocess.CompletedProcess:
    command = [str(LINT_IMPORTS), "--config", "importlinter.ini", "--no-cache"]
    for contract in contracts:
        command += ["--contract", contract]
    return subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=120)


def plant(tree: Path, relative: str, statement: str) -> None:
    """Write the statement to this file, or add it to the end of this module (`a/models`:
    `a/models.py` or the package's `a/models/__init__.py`)."""
    target = tree / relative
    if target.suffix != ".py":
        module = target.with_suffix(".py")
        target = module if module.exists() else target / "__init__.py"
    existing = target.read_text() if target.exists() else ""
    target.write_text(existing + "\n" + statement + "\n")


def test_every_contract_has_a_planted_violation():
    assert sorted(PLANTS) == sorted(contract_ids())


def test_the_untouched_tree_keeps_every_contract(tree_copy):
    result = lint_imports(tree_copy)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("contract", sorted(PLANTS))
def test_a_planted_violation_breaks_its_contract(tree_copy, contract):
    plant(tree_copy, *PLANTS[contract])

    result = lint_imports(tree_copy, contract)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout


def test_ordering_and_fulfillment_may_not_import_each_other(tree_copy):
    plant(tree_copy, *SIBLINGS)

    result = lint_imports(tree_copy, "direction")

    assert result.returncode == 1
    assert "ordering" in result.stdout and "fulfillment" in result.stdout
