"""What `release --rollback` refuses, before it starts anything."""

from pathlib import Path

import pytest

from prime_now.release.processes import Build
from prime_now.release.tool import Options, ReleaseFailed, Releaser, Running, State


def releaser_with(tmp_path: Path, state: State) -> Releaser:
    (tmp_path / "state.json").write_text(state.to_json())
    return Releaser(Options(run_dir=tmp_path, port=1), say=lambda line: None)


def live(**changes) -> Running:
    return Running(version="v2", checkout="/nowhere/v2", slot="green", web=0, worker=0, **changes)


def test_there_is_nothing_to_roll_back_to_without_a_previous_release(tmp_path):
    releaser = releaser_with(tmp_path, State(port=1, metrics_token="t", live=live()))
    with pytest.raises(ReleaseFailed, match="no previous release"):
        releaser.rollback()


def test_a_release_whose_contract_steps_ran_is_not_rolled_back(tmp_path):
    state = State(
        port=1,
        metrics_token="t",
        live=live(contracted=["catalog.0011_drop_product_title"]),
        previous=Build("v1", Path("/nowhere/v1")),
    )
    with pytest.raises(ReleaseFailed, match="ran contract steps .*catalog.0011_drop_product_title"):
        releaser_with(tmp_path, state).rollback()


def test_the_state_survives_its_file(tmp_path):
    state = State(port=1, metrics_token="t", live=live(beat=7), previous=Build("v1", Path("/x")))
    assert State.from_json(state.to_json()) == state
