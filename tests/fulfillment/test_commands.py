"""Batch commands: cycle count import, sweeper, reports, ledger proof, demo seed."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fulfillment import services
from fulfillment.models import Hub, HubStaff, Reservation, Stock, StockMovement
from fulfillment.services import StockLine
from tests.catalog.factories import ProductFactory
from tests.fulfillment.factories import HubFactory, StockFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_stock_sets_counts_through_the_ledger_and_reports_bad_rows(tmp_path):
    hub = HubFactory(code="sea-test")
    apples, pears = ProductFactory(sku="APL-1"), ProductFactory(sku="PER-1")
    StockFactory(hub=hub, product_id=apples.id, sku=apples.sku, on_hand=10)
    file = tmp_path / "count.csv"
    file.write_text(
        "sku,on_hand,aisle,bin\nAPL-1,7,A1,03\nPER-1,12,A2,01\nNOPE-9,3,,\nAPL-1,8,,\nPER-1,-2,,\n"
    )
    with pytest.raises(CommandError):
        out, err = run("import_stock", "sea-test", str(file))
    apple_row = Stock.objects.get(hub=hub, sku="APL-1")
    pear_row = Stock.objects.get(hub=hub, sku="PER-1")
    assert (apple_row.on_hand, apple_row.aisle, apple_row.bin) == (7, "A1", "03")
    assert pear_row.on_hand == 12 and pear_row.product_id == pears.id
    assert services.stock_verify() == ()


def test_import_stock_names_each_bad_line(tmp_path):
    HubFactory(code="sea-test")
    ProductFactory(sku="APL-1")
    file = tmp_path / "count.csv"
    file.write_text("sku,on_hand\nAPL-1,x\nNOPE,1\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_stock", "sea-test", str(file), stdout=io.StringIO(), stderr=err)
    assert "line 2:" in err.getvalue() and "line 3: unknown SKU 'NOPE'" in err.getvalue()


def test_import_stock_twice_changes_nothing_the_second_time(tmp_path):
    hub = HubFactory(code="sea-test")
    ProductFactory(sku="APL-1")
    file = tmp_path / "count.csv"
    file.write_text("sku,on_hand\nAPL-1,5\n")
    run("import_stock", "sea-test", str(file))
    movements = StockMovement.objects.count()
    out, _ = run("import_stock", "sea-test", str(file))
    assert "0 adjusted, 1 already right" in out
    assert StockMovement.objects.count() == movements
    assert Stock.objects.get(hub=hub).on_hand == 5


def test_import_stock_refuses_a_count_below_what_is_reserved(tmp_path):
    hub = HubFactory(code="sea-test")
    product = ProductFactory(sku="APL-1")
    row = StockFactory(hub=hub, product_id=product.id, sku=product.sku, on_hand=5)
    services.stock_reserve(
        hub_code=hub.code,
        lines=[StockLine(product_id=product.id, quantity=4)],
        hold_for=timedelta(minutes=5),
        reference="x",
    )
    file = tmp_path / "count.csv"
    file.write_text("sku,on_hand\nAPL-1,2\n")
    with pytest.raises(CommandError):
        run("import_stock", "sea-test", str(file))
    row.refresh_from_db()
    assert (row.on_hand, row.reserved) == (5, 4)


def test_expire_reservations_command_releases_lapsed_holds():
    row = StockFactory(on_hand=3)
    res = services.stock_reserve(
        hub_code=row.hub.code,
        lines=[StockLine(product_id=row.product_id, quantity=3)],
        hold_for=timedelta(minutes=5),
        reference="x",
    )
    Reservation.objects.filter(pk=res.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    out, _ = run("expire_reservations")
    assert "1 expired" in out
    row.refresh_from_db()
    assert row.reserved == 0


def test_low_stock_report_lists_rows_at_or_below_threshold():
    low = StockFactory(on_hand=1, low_stock_threshold=2)
    StockFactory(hub=low.hub, on_hand=50, low_stock_threshold=2)
    out, _ = run("low_stock_report")
    assert low.sku in out and out.count("\n") == 2


def test_verify_stock_fails_loudly_when_a_row_disagrees_with_its_ledger():
    row = StockFactory(on_hand=3)
    run("verify_stock")
    Stock.objects.filter(pk=row.pk).update(on_hand=4)  # written around the services
    with pytest.raises(CommandError):
        run("verify_stock")


def test_seed_fulfillment_is_idempotent_and_stocks_every_demo_product():
    for n in range(1, 6):
        ProductFactory(sku=f"PN-{n:06d}")
    run("seed_fulfillment", "--small")
    run("seed_fulfillment", "--small")
    assert Hub.objects.count() == 4
    assert Stock.objects.count() == 20
    assert HubStaff.objects.filter(user__username="picker-sea-downtown").exists()
    assert services.hub_for_location(postcode="98107").code in {"sea-ballard", "sea-downtown"}
    assert services.stock_verify() == ()


def test_pulling_the_reports_lever_skips_the_low_stock_report_unless_forced():
    from fulfillment.levers import REPORTS
    from prime_now.kernel.levers import lever_set

    low = StockFactory(on_hand=1, low_stock_threshold=2)
    lever_set(REPORTS, enabled=False, reason="test")

    skipped, said = run("low_stock_report")
    forced, _ = run("low_stock_report", "--force")

    assert skipped == "" and "lever is pulled" in said
    assert low.sku in forced


@pytest.mark.parametrize(
    ("on_hand", "reason"),
    [
        ("²", "on_hand: must be a whole number"),
        ("٣", "on_hand: must be a whole number"),
        ("99999999999", "on_hand: must be a whole number"),
        ("4294967296", "on_hand: 4294967296 is more than 2147483647"),
        ("-1", "on_hand: must be a whole number"),
    ],
)
def test_import_stock_reports_a_count_that_is_not_a_storable_number(tmp_path, on_hand, reason):
    hub = HubFactory(code="sea-test")
    ProductFactory(sku="APL-1")
    file = tmp_path / "count.csv"
    file.write_text(f"sku,on_hand\nAPL-1,{on_hand}\n", encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_stock", "sea-test", str(file), stdout=io.StringIO(), stderr=err)

    assert f"line 2: {reason}" in err.getvalue()
    assert not Stock.objects.filter(hub=hub).exists()


def test_import_stock_refuses_a_file_that_is_not_utf8_before_applying_anything(tmp_path):
    hub = HubFactory(code="sea-test")
    ProductFactory(sku="APL-1")
    file = tmp_path / "count.csv"
    file.write_bytes(b"sku,on_hand\nAPL-1,4\nPOM\xe9,3\n")

    with pytest.raises(CommandError, match=r"line 3, column 4: byte 0xe9: not UTF-8"):
        run("import_stock", "sea-test", str(file))

    assert not Stock.objects.filter(hub=hub).exists()


def test_import_stock_reports_broken_csv_rows_and_applies_the_good_ones(tmp_path):
    HubFactory(code="sea-test")
    ProductFactory(sku="APL-1")
    file = tmp_path / "count.csv"
    file.write_text('sku,on_hand\n"APL-1,4\nAPL-1,4,extra\nAPL-1,6\n', encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_stock", "sea-test", str(file), stdout=io.StringIO(), stderr=err)

    assert "not valid CSV" in err.getvalue() or "more values than columns" in err.getvalue()


def test_a_binary_file_is_refused_as_not_utf8(tmp_path):
    HubFactory(code="sea-test")
    file = tmp_path / "count.csv"
    file.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    with pytest.raises(CommandError, match="not UTF-8"):
        run("import_stock", "sea-test", str(file))
