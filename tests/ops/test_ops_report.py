"""manage.py ops_report: one HTML page and its PNG charts; clear errors for bad options."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from insights import recording

pytestmark = pytest.mark.django_db


def test_the_report_writes_the_page_and_three_charts_with_progress(tmp_path):
    recording.refused(reference="c:1", hub_code="SEA-01", reason="window_full", at=timezone.now())
    out, err = StringIO(), StringIO()

    call_command("ops_report", since="24h", output=str(tmp_path / "r.html"), stdout=out, stderr=err)

    page = (tmp_path / "r.html").read_text()
    assert "(1 of 1 attempts)" in page and "<td>window_full</td>" in page
    for chart in ("drops", "reasons", "latencies"):
        assert (tmp_path / f"r-{chart}.png").read_bytes().startswith(b"\x89PNG")
    assert "ops_report" in err.getvalue()  # the progress bar
    assert "1 attempts, 1 dropped (100.00%)" in out.getvalue()


@pytest.mark.parametrize("since", ["0h", "24", "yesterday", "-3h"])
def test_a_bad_period_is_refused(tmp_path, since):
    with pytest.raises(CommandError, match="--since"):
        call_command("ops_report", since=since, output=str(tmp_path / "r.html"))


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("ops_report", output=str(tmp_path / "nowhere" / "r.html"))
