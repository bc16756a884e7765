"""How good search is: the judged query set (catalog/relevance/judged_queries.json) scored
against the catalog as it is, as nDCG@10 and the share of queries whose first result is
relevant.

A judgment grades products 2 (what the shopper came for), 1 (a fair second choice) or 0; its
rules name a category (`cat:<slug>`) or a demo item (`item:<item>`: every brand and variant of
"Tortilla Chips"). nDCG@10 compares the gains of the first ten results, 2**grade - 1 discounted
by log2(position + 1), with the best ten the catalog could have given.
"""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..models import Product
from . import demo_data
from .search import product_search

JUDGMENTS = Path(__file__).resolve().parents[1] / "relevance" / "judged_queries.json"
DEPTH = 10


@dataclass(frozen=True)
class Judgment:
    query: str
    rules: dict[int, tuple[str, ...]]  # grade -> rules

    def grade(self, name: str, category: str) -> int:
        item = item_of(name)
        for grade in sorted(self.rules, reverse=True):
            for rule in self.rules[grade]:
                kind, _, value = rule.partition(":")
                if (kind == "cat" and value == category) or (kind == "item" and value == item):
                    return grade
        return 0


@dataclass(frozen=True)
class QueryScore:
    query: str
    ndcg: float
    first_relevant: bool
    grades: tuple[int, ...]  # of the first results, in order


@dataclass(frozen=True)
class QualityReport:
    scores: tuple[QueryScore, ...]

    @property
    def ndcg(self) -> float:
        return sum(s.ndcg for s in self.scores) / len(self.scores)

    @property
    def first_relevant_share(self) -> float:
        return sum(s.first_relevant for s in self.scores) / len(self.scores)


@cache
def _items_by_last_word() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for dept in demo_data.DEPARTMENTS:
        for cat in dept.categories:
            for item in cat.items:
                found.setdefault(item.split()[-1], []).append(item)
    return {word: tuple(sorted(set(items), key=len, reverse=True)) for word, items in found.items()}


def item_of(name: str) -> str:
    """The demo item a product name ends with ("Prime Basics Sea Salt Kettle Chips": "Kettle
    Chips"), the longest that fits, or ""."""
    for item in _items_by_last_word().get(name.rsplit(" ", 1)[-1], ()):
        if name == item or name.endswith(" " + item):
            return item
    return ""


def load_judgments(path: Path = JUDGMENTS) -> tuple[Judgment, ...]:
    data = json.loads(path.read_text())
    return tuple(
        Judgment(
            query=entry["q"],
            rules={int(g): tuple(entry.get(str(g), ())) for g in (1, 2) if entry.get(str(g))},
        )
        for entry in data["queries"]
    )


def _dcg(grades: list[int] | tuple[int, ...]) -> float:
    return float(sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:DEPTH])))


def search_quality(
    judgments: tuple[Judgment, ...] | None = None,
    progress: Callable[[QueryScore], None] | None = None,
) -> QualityReport:
    """Score product_search on every judged query (relevance order, first page)."""
    judgments = judgments if judgments is not None else load_judgments()
    catalog = list(
        Product.objects.filter(active=True).values_list("name", "category__slug").order_by()
    )
    scores = []
    for judgment in judgments:
        page = product_search(query=judgment.query, page_size=DEPTH)
        grades = tuple(judgment.grade(p.name, p.category) for p in page.items)
        ideal = sorted((judgment.grade(n, c) for n, c in catalog), reverse=True)[:DEPTH]
        best = _dcg(ideal)
        score = QueryScore(
            query=judgment.query,
            ndcg=_dcg(grades) / best if best else 0.0,
            first_relevant=bool(grades) and grades[0] > 0,
            grades=grades,
        )
        scores.append(score)
        if progress:
            progress(score)
    return QualityReport(scores=tuple(scores))
