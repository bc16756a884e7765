"""import_catalog / export_catalog: validation of every kind of bad row, upsert, round trip."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from catalog.models import Category, Department, PriceHistory, Product
from catalog.services import bulk, importing
from prime_now.kernel.batch import single_run
from prime_now.kernel.models import OutboxEvent
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "sku,name,brand,size,department,department_name,category,category_name,price,active,"
    "age_restricted,attributes\n"
)
GOOD = (
    "PN-100001,Whole Milk,Horizon,1 gal,dairy,Dairy,dairy-milk,Milk,4.29,true,false,"
    '"{""organic"": true}"\n'
)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_catalog", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc, out.getvalue(), err.getvalue()
    return None, out.getvalue(), err.getvalue()


def test_a_good_csv_creates_products_departments_and_categories(tmp_path):
    error, out, _ = run(write(tmp_path, "c.csv", HEADER + GOOD))

    assert error is None
    product = Product.objects.get(sku="PN-100001")
    assert (product.name, product.price, product.attributes) == (
        "Whole Milk",
        Decimal("4.29"),
        {"organic": True},
    )
    assert product.category.path == "dairy/dairy-milk"
    assert product.slug == "whole-milk"
    assert "1 were created" in out


def test_jsonl_is_read_with_exact_prices(tmp_path):
    line = {
        "sku": "PN-100002",
        "name": "Cheddar",
        "department": "dairy",
        "department_name": "Dairy",
        "category": "dairy-cheese",
        "category_name": "Cheese",
        "price": 3.10,
    }
    error, _, _ = run(write(tmp_path, "c.jsonl", json.dumps(line) + "\n"))

    assert error is None
    assert Product.objects.get(sku="PN-100002").price == Decimal("3.10")


BAD_ROWS = [
    ("PN-1,,Brand,1 ea,dairy,Dairy,dairy-milk,Milk,1.00,true,false,", "name: is required"),
    ("pn 1,Milk,B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,", "sku:"),
    (
        "PN-2,Milk,B,1,dairy,Dairy,dairy-milk,Milk,free,true,false,",
        "price: 'free' is not an amount",
    ),
    ("PN-3,Milk,B,1,dairy,Dairy,dairy-milk,Milk,0,true,false,", "must be above zero"),
    ("PN-4,Milk,B,1,dairy,Dairy,dairy-milk,Milk,-2.00,true,false,", "must be above zero"),
    ("PN-5,Milk,B,1,dairy,Dairy,dairy-milk,Milk,1.999,true,false,", "more than 2 decimal places"),
    ("PN-6,Milk,B,1,dairy,Dairy,dairy-milk,Milk,,true,false,", "price: is required"),
    ("PN-7,Milk,B,1,dairy,Dairy,dairy-milk,Milk,1.00,maybe,false,", "active: 'maybe'"),
    (
        "PN-8,Milk,B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,[1]",
        "attributes: must be a JSON object",
    ),
    (
        "PN-9,Milk,B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,{oops",
        "attributes: not valid JSON",
    ),
    ("PN-10,Milk,B,1,,,nowhere,,1.00,true,false,", "unknown category 'nowhere'"),
    (
        "PN-11,Milk,B,1,dairy,Dairy,Bad Slug,Milk,1.00,true,false,",
        "category: 'Bad Slug' is not a slug",
    ),
    ("PN-12,Milk,B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,,extra", "values for 12 columns"),
    ("PN-13,Milk,B", "fewer values"),
    ("PN-14,Milk,B,1,other,,dairy-x,X,1.00,true,false,", "unknown department 'other'"),
    (
        f"PN-16,Milk,B,1,dairy,Dairy,dairy-new,{'x' * 101},1.00,true,false,",
        "category_name: longer than 100",
    ),
    (
        f"PN-15,{'x' * 201},B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,",
        "name: longer than 200",
    ),
    ("PN-17,Mi\x00lk,B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,", "name: contains a NUL"),
    (
        'PN-18,Milk,B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,"{""a"": ""x\\u0000""}"',
        "attributes: contains a NUL",
    ),
    (
        'PN-19,Milk,B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,"{""a"": NaN}"',
        "attributes: numbers must be finite",
    ),
    (
        'PN-20,Milk,B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,"{""a"": 1e400}"',
        "attributes: numbers must be finite",
    ),
]


@pytest.mark.parametrize(("line", "reason"), BAD_ROWS)
def test_each_bad_row_is_reported_with_its_line_and_the_good_rows_are_imported(
    tmp_path, line, reason
):
    path = write(tmp_path, "c.csv", HEADER + GOOD + line + "\n")

    error, out, err = run(path)

    assert error is not None and error.returncode == 1
    assert "line 3" in err and reason in err
    assert "1 bad" in out
    assert Product.objects.filter(sku="PN-100001").exists()
    assert Product.objects.count() == 1


def test_a_duplicate_sku_in_the_file_is_reported_on_the_later_line(tmp_path):
    error, _, err = run(write(tmp_path, "c.csv", HEADER + GOOD + GOOD))

    assert error is not None
    assert "line 3 (PN-100001): sku: already on line 2" in err


def test_a_category_in_another_department_is_refused(tmp_path):
    run(write(tmp_path, "a.csv", HEADER + GOOD))
    moved = GOOD.replace("PN-100001", "PN-100009").replace("dairy,Dairy", "bakery,Bakery")

    error, _, err = run(write(tmp_path, "b.csv", HEADER + moved))

    assert error is not None
    assert "is in department 'dairy', not 'bakery'" in err
    assert not Product.objects.filter(sku="PN-100009").exists()


def test_a_currency_other_than_the_store_currency_is_refused(tmp_path):
    text = "sku,name,category,price,currency\nPN-1,Milk,milk,1.00,EUR\n"
    Category.objects.create(
        department=Department.objects.create(slug="d", name="D"), slug="milk", name="Milk"
    )

    error, _, err = run(write(tmp_path, "c.csv", text))

    assert "line 2 (PN-1): currency: this store sells in USD, not 'EUR'" in err


def test_bad_jsonl_lines_are_reported_with_their_numbers(tmp_path):
    good = json.dumps({"sku": "PN-1", "name": "Milk", "category": "milk", "price": "1.00"})
    Category.objects.create(
        department=Department.objects.create(slug="d", name="D"), slug="milk", name="Milk"
    )
    text = (
        "\n".join(
            [
                good,
                "{not json",
                "[1, 2]",
                json.dumps({"sku": "PN-2", "colour": "red"}),
                json.dumps(
                    {"sku": "PN-3", "name": "X", "category": "milk", "price": 1.5, "active": "nope"}
                ),
            ]
        )
        + "\n"
    )

    error, _, err = run(write(tmp_path, "c.jsonl", text))

    assert error is not None
    assert "line 2: not valid JSON" in err
    assert "line 3: each line must be a JSON object" in err
    assert "line 4: unknown field(s) colour" in err
    assert "line 5 (PN-3): active: 'nope' is not true or false" in err
    assert list(Product.objects.values_list("sku", flat=True)) == ["PN-1"]


def test_a_header_without_required_columns_is_refused_whole(tmp_path):
    error, _, _ = run(write(tmp_path, "c.csv", "sku,name\nPN-1,Milk\n"))

    assert error is not None and "lacks the column(s) category, price" in str(error)


def test_an_unknown_extension_needs_format(tmp_path):
    error, _, _ = run(write(tmp_path, "c.txt", HEADER + GOOD))

    assert error is not None and "--format" in str(error)
    assert run(write(tmp_path, "c.txt", HEADER + GOOD), "--format", "csv")[0] is None


def test_dry_run_validates_and_writes_nothing(tmp_path):
    error, out, _ = run(write(tmp_path, "c.csv", HEADER + GOOD), "--dry-run")

    assert error is None
    assert "1 would be created" in out
    assert not Product.objects.exists() and not Department.objects.exists()


def test_reimporting_an_unchanged_file_changes_nothing(tmp_path):
    path = write(tmp_path, "c.csv", HEADER + GOOD)
    run(path)
    before = Product.objects.get().updated_at
    events = OutboxEvent.objects.count()

    error, out, _ = run(path)

    assert error is None and "1 unchanged" in out
    assert Product.objects.get().updated_at == before
    assert OutboxEvent.objects.count() == events


def test_a_changed_price_updates_the_product_records_history_and_publishes(tmp_path):
    run(write(tmp_path, "a.csv", HEADER + GOOD))

    error, out, _ = run(write(tmp_path, "b.csv", HEADER + GOOD.replace("4.29", "4.59")))

    product = Product.objects.get()
    assert error is None and "1 were updated (1 price changes)" in out
    assert product.price == Decimal("4.59")
    history = PriceHistory.objects.get()
    assert (history.old_price, history.new_price, history.source) == (
        Decimal("4.29"),
        Decimal("4.59"),
        "import",
    )
    assert OutboxEvent.objects.filter(name="catalog.PriceChanged").count() == 1


def test_an_existing_product_is_updated_in_place_by_sku(tmp_path, fruit):
    ProductFactory(sku="PN-100001", name="Old name", category=fruit)

    run(write(tmp_path, "c.csv", HEADER + GOOD))

    product = Product.objects.get(sku="PN-100001")
    assert product.name == "Whole Milk" and product.category.slug == "dairy-milk"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_into_an_empty_catalog_is_lossless(tmp_path, fruit, fmt):
    ProductFactory(
        sku="PN-1",
        name='Odd "quoted", name\nwith newline',
        brand="Ünïcødé",
        category=fruit,
        price="12.30",
        active=False,
        age_restricted=True,
        image_url="https://img.example/1.jpg",
        attributes={"organic": True, "tags": ["a", "b"], "weight_g": 450, "ratio": 0.25},
    )
    ProductFactory(sku="PN-2", category=fruit, description="")
    first = tmp_path / f"one.{fmt}"
    second = tmp_path / f"two.{fmt}"
    call_command("export_catalog", str(first), stdout=StringIO())
    before = list(
        Product.objects.order_by("sku").values(
            "sku",
            "name",
            "slug",
            "brand",
            "size",
            "description",
            "image_url",
            "price",
            "currency",
            "active",
            "age_restricted",
            "attributes",
            "category__path",
            "category__name",
            "category__department__name",
        )
    )

    Product.objects.all().delete()
    Category.objects.all().delete()
    Department.objects.all().delete()
    assert run(str(first))[0] is None
    call_command("export_catalog", str(second), stdout=StringIO())

    assert second.read_bytes() == first.read_bytes()
    after = list(Product.objects.order_by("sku").values(*before[0].keys()))
    assert after == before


def test_seed_catalog_small_is_deterministic_and_idempotent():
    call_command("seed_catalog", small=True, stdout=StringIO())
    first = list(Product.objects.order_by("sku").values_list("sku", "name", "price"))

    out = StringIO()
    call_command("seed_catalog", small=True, stdout=out)

    assert "already seeded" in out.getvalue()
    assert len(first) == 500 and first[0][0] == "PN-000001" and first[-1][0] == "PN-000500"
    assert Department.objects.count() == 25
    assert list(Product.objects.order_by("sku").values_list("sku", "name", "price")) == first
    assert (
        Product.objects.filter(
            category__department__slug="beer-wine-spirits", age_restricted=False
        ).count()
        == 0
    )


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_new_products_at_once_both_succeed(tmp_path):
    # given one file of new products, imported twice at the same moment through the service
    # (the command lets one run at a time; the service is safe however it is called)
    lines = "".join(
        f"PN-2{i:05d},Item {i},B,1,dairy,Dairy,dairy-milk,Milk,1.00,true,false,\n"
        for i in range(300)
    )
    path = write(tmp_path, "c.csv", HEADER + lines)
    barrier = threading.Barrier(2)

    def one_import(_):
        try:
            with importing.open_text(path) as stream:
                rows = importing.read_rows(stream, "csv")
                barrier.wait(timeout=30)
                return importing.catalog_import(rows=rows).errors
        finally:
            connection.close()

    # when both run in parallel
    with ThreadPoolExecutor(max_workers=2) as pool:
        errors = list(pool.map(one_import, range(2)))

    # then neither fails and each product exists once
    assert errors == [[], []]
    assert Product.objects.filter(sku__startswith="PN-2").count() == 300


@pytest.mark.django_db(transaction=True)
def test_a_second_import_command_while_one_runs_is_refused_and_writes_nothing(tmp_path):
    # given an import_catalog run holding the command's lock (in another session)
    path = write(tmp_path, "c.csv", HEADER + GOOD)
    taken, release = threading.Event(), threading.Event()

    def first_run():
        try:
            with single_run("import_catalog"):
                taken.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=first_run)
    holder.start()
    assert taken.wait(timeout=30)
    try:
        # when the command is run again
        error, _, _ = run(path)
    finally:
        release.set()
        holder.join()

    # then it exits with "already running" and imports nothing
    assert error is not None and error.returncode == 3
    assert "already running" in str(error)
    assert not Product.objects.filter(sku="PN-100001").exists()


def _many_rows(count: int) -> str:
    return "".join(
        f'PN-{300000 + n},Item {n},Brand,1 ea,dairy,Dairy,dairy-milk,Milk,1.00,true,false,"{{}}"\n'
        for n in range(count)
    )


def _refreshes(monkeypatch) -> list[bool]:
    """Records each after_large_write (the real one still runs)."""
    calls: list[bool] = []
    real = bulk.after_large_write

    def recorded() -> None:
        calls.append(True)
        real()

    monkeypatch.setattr(bulk, "after_large_write", recorded)
    return calls


def test_a_large_import_folds_the_search_indexes_and_refreshes_statistics(tmp_path, monkeypatch):
    # Given an import of more rows than a large write
    refreshes = _refreshes(monkeypatch)
    path = write(tmp_path, "big.csv", HEADER + _many_rows(bulk.LARGE_WRITE + 1))

    # When it runs
    error, _, _ = run(path)

    # Then the indexes and statistics are refreshed once, and the planner sees the rows
    assert error is None and refreshes == [True]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'catalog_product'")
        assert cursor.fetchone()[0] >= bulk.LARGE_WRITE + 1


def test_a_small_import_leaves_indexes_and_statistics_to_autovacuum(tmp_path, monkeypatch):
    refreshes = _refreshes(monkeypatch)

    error, _, _ = run(write(tmp_path, "small.csv", HEADER + _many_rows(10)))

    assert error is None and refreshes == []


def test_deeply_nested_json_is_a_bad_row_not_a_crash(tmp_path):
    nested = "[" * 100_000 + "]" * 100_000
    deep_attributes = json.dumps({"a": json.loads("[" * 20 + "]" * 20)})
    path = write(
        tmp_path,
        "c.jsonl",
        nested
        + "\n"
        + json.dumps(
            {"sku": "PN-100009", "name": "Deep", "category": "dairy-milk", "price": "1.00",
             "attributes": deep_attributes}
        )
        + "\n",
    )  # fmt: skip

    error, _, err = run(path)

    assert error is not None
    assert "line 1: not valid JSON: nested too deeply" in err
    assert "line 2 (PN-100009): attributes: nested more than 8 levels deep" in err


def test_a_file_that_is_not_utf8_names_the_line_and_imports_nothing(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes((HEADER + GOOD).encode() + "PN-100002,Caf\xe9,B".encode("latin-1") + b"\n")

    error, _, _ = run(str(path))

    assert error is not None and "line 3, column 14: byte 0xe9" in str(error)
    assert not Product.objects.exists()
