"""Migrations that the running release survives, checked before they merge.

django-migration-linter reads the SQL of each migration (`sqlmigrate`) and names what would
break the previous release while both run against one database (a dropped or renamed column or
table, a NOT NULL column without a database default, a changed type, a new unique constraint)
and what locks a hot table (an index built or dropped without CONCURRENTLY). This module is the
project's policy over it: every such finding is an error, except the backward-incompatible ones
in a migration marked as the contract step of an expand/contract pair (`ContractStep`), whose
expand step must be an earlier migration of the same app.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_migration_linter import MigrationLinter
from django_migration_linter.sql_analyser import analyse_sql_statements

from prime_now.kernel.expand_contract import ContractStep, contract_step

# What breaks the release still running: allowed only in a contract step.
BACKWARD_INCOMPATIBLE = frozenset(
    {"RENAME_TABLE", "RENAME_COLUMN", "DROP_TABLE", "DROP_COLUMN", "NOT_NULL", "ALTER_COLUMN",
     "ADD_UNIQUE"}
)  # fmt: skip
# What takes a lock that stops writes to a table for as long as it runs: never allowed.
LOCKING = frozenset({"CREATE_INDEX", "CREATE_INDEX_EXCLUSIVE", "DROP_INDEX", "REINDEX"})
# The Django apps' own migrations are Django's business, not ours.
# The linter logs every sqlmigrate it runs at INFO.
logging.getLogger("django_migration_linter").setLevel(logging.WARNING)

THIRD_PARTY = frozenset({"admin", "auth", "contenttypes", "sessions", "authtoken", "axes"})

# Migrations that had shipped before the linter existed: they ran on every database already,
# so nothing can break while they run again. New migrations are never added here.
RELEASED_BEFORE_LINTER = frozenset(
    {
        ("catalog", "0001_initial"), ("catalog", "0002_search"),
        ("catalog", "0003_product_updated_at_index"), ("catalog", "0004_search_vector_cheaper"),
        ("catalog", "0005_product_department"), ("catalog", "0006_money_field"),
        ("catalog", "0007_search_vector_generated"), ("catalog", "0008_search_fields"),
        ("catalog", "0009_search_vector_by_type"),
        ("delivery", "0001_windows"), ("delivery", "0002_checkout_attempt"),
        ("delivery", "0003_couriers"), ("delivery", "0004_courier_rotation_from_offers"),
        ("delivery", "0005_drop_indexes_covered_by_composites"),
        ("delivery", "0006_dispatch_ranking_and_trip_stop_indexes"),
        ("delivery", "0007_checkout_is_the_idempotency_record"),
        ("delivery", "0008_money_fields_are_kernel_money"),
        ("fulfillment", "0001_initial"), ("fulfillment", "0002_ledger_append_only"),
        ("fulfillment", "0003_drop_indexes_covered_by_composites"),
        ("ordering", "0001_initial"), ("ordering", "0002_order_total_check_half_cent"),
        ("ordering", "0003_drop_indexes_covered_by_composites"),
        ("ordering", "0004_money_field_and_exact_total"),
        ("kernel", "0001_initial"), ("kernel", "0002_role_groups"), ("kernel", "0003_outbox_lease"),
        ("kernel", "0004_device_tokens"),
    }
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    app: str
    migration: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.app}.{self.migration}: {self.code}: {self.message}"


def lint(migrations: Iterable[tuple[str, str]] | None = None) -> list[Finding]:
    """The findings that refuse a merge, for the given (app, name) pairs, else for every
    project migration not released before the linter."""
    loader = MigrationLoader(connection, load=True)
    if migrations is None:
        migrations = sorted(
            key
            for key in loader.disk_migrations
            if key[0] not in THIRD_PARTY and key not in RELEASED_BEFORE_LINTER
        )
    linter = MigrationLinter(no_cache=True, no_output=True)
    findings: list[Finding] = []
    for app, name in migrations:
        migration = loader.disk_migrations[(app, name)]
        step = contract_step(migration)
        allowed: frozenset[str] = frozenset()
        if step is not None:
            problem = _bad_contract(loader, app, name, step)
            if problem:
                findings.append(Finding(app, name, "CONTRACT_STEP", problem))
                continue
            allowed = BACKWARD_INCOMPATIBLE
        errors, _ignored, warnings = analyse_sql_statements(
            linter.sql_analyser_class, linter.get_sql(app, name), allowed
        )
        data_errors, _, _ = linter.analyse_data_migration(migration)
        for issue in [*errors, *warnings, *data_errors]:
            if issue.code in allowed:
                continue
            if issue.code in BACKWARD_INCOMPATIBLE | LOCKING or issue in data_errors:
                findings.append(Finding(app, name, issue.code, _describe(issue)))
    return list(dict.fromkeys(findings))  # a RunSQL's statements are read twice


def _bad_contract(loader: MigrationLoader, app: str, name: str, step: ContractStep) -> str:
    expand = (app, step.expand)
    if expand not in loader.graph.nodes:
        return f"its expand step {app}.{step.expand} does not exist"
    if expand == (app, name) or expand not in loader.graph.forwards_plan((app, name)):
        return f"its expand step {app}.{step.expand} must come before it"
    return ""


def _describe(issue: object) -> str:
    message = str(getattr(issue, "message", issue))
    table, column = getattr(issue, "table", None), getattr(issue, "column", None)
    where = ", ".join(
        part for part in (table and f"table {table}", column and f"column {column}") if part
    )
    return f"{message} ({where})" if where else message
