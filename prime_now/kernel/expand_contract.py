"""The marker of the second (contract) step of an expand/contract schema change.

A migration that drops or renames what the previous release still read is refused by the
migration linter (`manage.py lint_migrations`) unless it carries this operation, naming the
expand step it finishes. The release tool runs contract steps only after the new version is
promoted and the old one stopped (docs/operations.md, "Migrations that old code survives").
"""

from typing import Any

from django.db.migrations import Migration
from django.db.migrations.operations.base import Operation


class ContractStep(Operation):
    """Marks its migration as the contract step of `expand` (a migration of the same app,
    e.g. "0008_product_title"), which an earlier release shipped. Changes nothing itself."""

    reversible = True
    reduces_to_sql = False
    elidable = False

    def __init__(self, expand: str, reason: str) -> None:
        if not expand or not reason:
            raise ValueError("A contract step names its expand migration and says why.")
        self.expand = expand
        self.reason = reason

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [], {"expand": self.expand, "reason": self.reason})

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        pass

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        pass

    def describe(self) -> str:
        return f"Contract step of {self.expand}: {self.reason}"


def contract_step(migration: Migration) -> ContractStep | None:
    """The migration's ContractStep marker, if it is the contract step of a pair."""
    return next((op for op in migration.operations if isinstance(op, ContractStep)), None)
