"""Which pending migrations may run while the previous release still serves, and which wait.

Before the switch the release runs every pending migration except contract steps (marked
with `ContractStep`): by the linter's rules those leave the previous release working. Contract
steps run once the new version is promoted and the previous one stopped. A migration that
needs a pending contract step cannot run before the switch, so such a plan is refused: ship the
contract step in a release of its own.
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor

from prime_now.kernel.expand_contract import contract_step


class UnsafePlan(Exception):
    pass


def is_contract(migration: Migration) -> bool:
    return contract_step(migration) is not None


def pending(alias: str = DEFAULT_DB_ALIAS) -> list[Migration]:
    """The migrations of this code not yet applied to the database, in the order they run."""
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [migration for migration, backwards in plan if not backwards]


def before_switch(plan: list[Migration]) -> list[Migration]:
    """The part of `plan` that runs before the switch; raises UnsafePlan when a migration
    there needs a contract step of the same plan."""
    contracts = {(m.app_label, m.name) for m in plan if is_contract(m)}
    if not contracts:
        return plan
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    graph = executor.loader.graph
    early = [m for m in plan if not is_contract(m)]
    for migration in early:
        needs = contracts & set(graph.forwards_plan((migration.app_label, migration.name)))
        if needs:
            raise UnsafePlan(
                f"{migration.app_label}.{migration.name} needs the contract step(s) "
                f"{sorted(needs)}, which run only after the switch: release them separately"
            )
    return early
