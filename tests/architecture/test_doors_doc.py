"""docs/doors.md is generated from the doors (`manage.py doors_doc`) and kept current."""

import io
import sys
import textwrap
import types

import pytest
from django.core.management import CommandError, call_command

from prime_now.management.commands.doors_doc import (
    OUTPUT,
    STALE,
    Door,
    render_doors,
    render_module,
    stale_diff,
)

SAMPLE = '''
"""A sample door.

Second paragraph, left out of the page."""

import enum
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from prime_now.kernel.bus import Event
from prime_now.kernel.errors import ConflictError

__all__ = [
    "SampleError", "sample_reserve", "SampleStatus", "SampleDTO", "SampleHappened", "LIMIT", "KINDS"
]

LIMIT = 50
KINDS = frozenset({"paid", "free", "express", "bulk"})
_SENTINEL = object()


@dataclass(frozen=True)
class SampleDTO:
    """What a sample is."""

    id: int
    price: Decimal | None
    tags: tuple[str, ...] = field(default_factory=tuple)

    def label(self) -> str:
        """The sample as a person reads it."""
        return str(self.id)


class SampleStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SampleError(ConflictError):
    """It could not be done."""

    code = "sample_refused"


@dataclass(frozen=True)
class SampleHappened(Event):
    """A sample happened."""

    sample_id: int


def sample_reserve(
    *, sample_id: int, hold_for: timedelta = timedelta(minutes=10), marker: object = _SENTINEL
) -> SampleDTO | None:
    return None


def helper_not_exported() -> None:
    """Public, but not in __all__."""
'''


@pytest.fixture
def sample(monkeypatch) -> types.ModuleType:
    module = types.ModuleType("sample_door")
    monkeypatch.setitem(sys.modules, "sample_door", module)
    exec(textwrap.dedent(SAMPLE), module.__dict__)
    return module


def test_docs_doors_md_is_what_the_doors_say():
    difference = stale_diff(OUTPUT)
    if difference is not None:
        pytest.fail(STALE + "\n" + difference, pytrace=False)


def test_a_door_lists_its_names_grouped_by_kind_in_a_fixed_order(sample):
    page = render_module(sample)

    headings = [line for line in page.splitlines() if line.startswith("#### ")]
    assert headings == [
        "#### Commands and queries",
        "#### DTOs",
        "#### Enums",
        "#### Errors",
        "#### Events",
        "#### Constants",
    ]
    assert "helper_not_exported" not in page


def test_a_function_shows_its_keyword_only_typed_signature_and_a_missing_docstring(sample):
    page = render_module(sample)

    assert (
        "def sample_reserve(\n"
        "    *,\n"
        "    sample_id: int,\n"
        "    hold_for: timedelta = timedelta(seconds=600),\n"
        "    marker: object = <object object>,\n"
        ") -> SampleDTO | None\n"
        '    """No docstring yet."""'
    ) in page
    assert "0x" not in page


def test_a_dto_shows_its_fields_with_types_defaults_and_helpers(sample):
    page = render_module(sample)

    assert (
        "@dataclass(frozen=True)\n"
        "class SampleDTO:\n"
        '    """What a sample is."""\n'
        "    id: int\n"
        "    price: Decimal | None\n"
        "    tags: tuple[str, ...] = field(default_factory=tuple)\n"
        "    def label(self) -> str\n"
        '        """The sample as a person reads it."""'
    ) in page


def test_enums_errors_events_and_constants_show_what_callers_rely_on(sample):
    page = render_module(sample)

    assert 'class SampleStatus(StrEnum):\n    """No docstring yet."""\n    OPEN = "open"' in page
    assert 'class SampleError(ConflictError):  # code "sample_refused", HTTP 409' in page
    assert '    # published as "sample_door.SampleHappened"\n    sample_id: int' in page
    assert "LIMIT: int = 50" in page


def test_a_set_is_written_in_sorted_order_whatever_the_hash_seed(sample):
    page = render_module(sample)

    assert 'KINDS: frozenset = frozenset({"bulk", "express", "free", "paid"})' in page


def test_the_module_docstring_gives_its_first_paragraph_only(sample):
    page = render_module(sample)

    assert page.startswith("### `sample_door`\n\nA sample door.\n")
    assert "Second paragraph" not in page


def test_a_module_without_all_lists_the_public_classes_and_functions_it_defines(sample):
    del sample.__all__

    door = Door.of(sample)

    assert door.names == (
        "SampleDTO",
        "SampleStatus",
        "SampleError",
        "SampleHappened",
        "sample_reserve",
        "helper_not_exported",
    )
    assert "No `__all__`" in render_module(sample)


def test_undocumented_names_are_listed_for_their_owners(sample):
    assert Door.of(sample).undocumented() == [
        "sample_door.sample_reserve",
        "sample_door.SampleStatus",
    ]


def test_check_fails_on_a_stale_file_and_leaves_it_alone(tmp_path):
    stale = tmp_path / "doors.md"
    stale.write_text("# old\n")

    with pytest.raises(CommandError) as raised:
        call_command("doors_doc", "--check", output=stale, stderr=io.StringIO())

    assert raised.value.returncode == 1
    assert "make doors" in str(raised.value)
    assert stale.read_text() == "# old\n"


def test_the_command_writes_the_page_and_then_finds_it_current(tmp_path):
    page = tmp_path / "doors.md"

    call_command("doors_doc", output=page, stdout=io.StringIO())
    call_command("doors_doc", "--check", output=page, stdout=io.StringIO())

    assert page.read_text() == render_doors()
