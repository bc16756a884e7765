"""Which pending migrations run before the switch: all but contract steps, unless a migration
needs one of them."""

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from prime_now.release.migrations import UnsafePlan, before_switch

pytestmark = pytest.mark.django_db


@pytest.fixture
def planted():
    with override_settings(MIGRATION_MODULES={"prime_now": "tests.release.planted_migrations"}):
        loader = MigrationLoader(connection)
        yield lambda *names: [loader.get_migration("prime_now", name) for name in names]


def test_contract_steps_wait_for_the_switch(planted):
    plan = planted("0007_index_concurrently", "0008_contract_legacy")
    assert before_switch(plan) == plan[:1]


def test_a_plan_without_contract_steps_runs_whole_before_the_switch(planted):
    plan = planted("0005_not_null_with_db_default", "0007_index_concurrently")
    assert before_switch(plan) == plan


def test_a_migration_needing_a_pending_contract_step_is_refused(planted):
    plan = planted("0008_contract_legacy", "0009_contract_before_its_expand",
                   "0010_after_a_contract_step")  # fmt: skip
    with pytest.raises(UnsafePlan, match="0010_after_a_contract_step needs the contract step"):
        before_switch(plan)
