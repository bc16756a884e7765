"""The migration linter: what the previous release would not survive, or what locks a hot
table, is refused; an expand step, a concurrent index and a marked contract step pass."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from prime_now.release.migration_lint import lint

# Planted migrations, loaded as the `prime_now` app's (which has none of its own).
planted = override_settings(MIGRATION_MODULES={"prime_now": "tests.release.planted_migrations"})
pytestmark = pytest.mark.django_db


def codes(name: str) -> set[str]:
    with planted:
        return {finding.code for finding in lint([("prime_now", name)])}


def test_every_migration_of_the_project_passes():
    assert lint() == []


def test_dropping_a_column_is_refused():
    assert codes("0002_drop_column") == {"DROP_COLUMN"}


def test_renaming_a_column_is_refused():
    assert codes("0003_rename_column") == {"RENAME_COLUMN"}


def test_a_not_null_column_without_a_database_default_is_refused():
    assert codes("0004_not_null_without_db_default") == {"NOT_NULL"}


def test_a_not_null_column_with_a_database_default_passes():
    assert codes("0005_not_null_with_db_default") == set()


def test_an_index_built_without_concurrently_is_refused():
    assert "CREATE_INDEX" in codes("0006_index_without_concurrently")


# sqlmigrate refuses a concurrent index inside a transaction, as the test's own would be.
@pytest.mark.django_db(transaction=True)
def test_an_index_built_concurrently_passes():
    assert codes("0007_index_concurrently") == set()


def test_a_contract_step_may_drop_what_its_expand_step_replaced():
    assert codes("0008_contract_legacy") == set()


def test_a_contract_step_whose_expand_step_is_not_before_it_is_refused():
    assert codes("0009_contract_before_its_expand") == {"CONTRACT_STEP"}


def test_the_command_fails_on_a_planted_unsafe_migration(capsys):
    with planted, pytest.raises(CommandError, match="unsafe migration"):
        call_command("lint_migrations", "prime_now.0002_drop_column")
    assert "prime_now.0002_drop_column: DROP_COLUMN" in capsys.readouterr().err
