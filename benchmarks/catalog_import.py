"""Catalog import figures: 25,000 products from a cold start, then the same file again.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pn_catalog \\
        .venv/bin/python benchmarks/catalog_import.py [--format csv|jsonl] [--runs 3]

Works in `<your database>_bench` (dropped and re-created, migrated), never in yours.
Each import runs as `manage.py import_catalog FILE` in a fresh process, so the times include
starting Python and Django ("cold"). Targets: cold import < 10 s, unchanged re-import < 5 s.
Prints figures; not a test.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.catalog_common import bench_url, load, manage, recreate_database


def write_file(url: str, path: Path, fmt: str, changed_every: int = 0) -> None:
    """The demo assortment in import format (every `changed_every`-th price + 0.10)."""
    code = (
        "import sys\n"
        "from decimal import Decimal\n"
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from catalog.services import demo_data, importing\n"
        f"every = {changed_every}\n"
        "names = {d.slug: d.name for d in demo_data.DEPARTMENTS}\n"
        "cats = {demo_data.category_slug(d, c): c.name for d in demo_data.DEPARTMENTS"
        " for c in d.categories}\n"
        "def rows():\n"
        "    for i in range(demo_data.TOTAL):\n"
        "        s = demo_data.product_spec(i)\n"
        "        price = s.price + (Decimal('0.10') if every and i % every == 0 else 0)\n"
        "        yield {'sku': s.sku, 'name': s.name, 'slug': s.slug, 'brand': s.brand,\n"
        "               'size': s.size, 'description': s.description, 'image_url': '',\n"
        "               'department': s.department, 'department_name': names[s.department],\n"
        "               'category': s.category, 'category_name': cats[s.category],\n"
        "               'price': price, 'currency': settings.CURRENCY, 'active': True,\n"
        "               'age_restricted': s.age_restricted, 'attributes': s.attributes}\n"
        f"with open({str(path)!r}, 'w', encoding='utf-8', newline='') as out:\n"
        f"    importing.write_rows(rows(), out, {fmt!r})\n"
    )
    manage(url, "shell", "-c", code)


def timed_import(url: str, path: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = manage(url, "import_catalog", str(path), check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"import failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = bench_url()
    workdir = Path(tempfile.mkdtemp(prefix="pn-bench-import-"))
    path = workdir / f"catalog.{args.format}"
    changed = workdir / f"catalog-1pct.{args.format}"

    print(f"cores: {os.cpu_count()}; load average before: {load()}")
    recreate_database(url)
    manage(url, "migrate", "--noinput")
    write_file(url, path, args.format)
    write_file(url, changed, args.format, changed_every=100)
    print(f"file: {path.name}, {path.stat().st_size / 1e6:.1f} MB, 25,000 rows")

    cold, warm, prices = [], [], []
    for run in range(args.runs):
        recreate_database(url)
        manage(url, "migrate", "--noinput")
        seconds, summary = timed_import(url, path)
        cold.append(seconds)
        print(f"run {run + 1}: cold import          {seconds:6.2f} s   {summary}")
        seconds, summary = timed_import(url, path)
        warm.append(seconds)
        print(f"run {run + 1}: unchanged re-import  {seconds:6.2f} s   {summary}")
        seconds, summary = timed_import(url, changed)
        prices.append(seconds)
        print(f"run {run + 1}: 1% prices changed    {seconds:6.2f} s   {summary}")
        timed_import(url, path)  # back to the original prices for the next figure

    print(
        f"cold import (25,000 new):   median {statistics.median(cold):5.2f} s "
        f"(best {min(cold):.2f})   target < 10 s"
    )
    print(
        f"re-import unchanged:        median {statistics.median(warm):5.2f} s "
        f"(best {min(warm):.2f})   target < 5 s"
    )
    print(f"re-import, 250 new prices:  median {statistics.median(prices):5.2f} s")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
