"""Score search on the judged query set: nDCG@10 and the share of first results relevant.

Run it on the demo catalog (`manage.py seed_catalog`); see catalog/services/relevance.py.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.services.relevance import QueryScore, load_judgments, search_quality


class Command(BaseCommand):
    help = "Print nDCG@10 and the first-result-relevant share of search on the judged queries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--per-query", action="store_true", help="Also print each query's score."
        )

    def handle(self, *args: Any, per_query: bool = False, **options: Any) -> None:
        judgments = load_judgments()

        def show(score: QueryScore) -> None:
            if per_query:
                grades = " ".join(str(g) for g in score.grades) or "(no results)"
                self.stdout.write(f"  {score.ndcg:5.3f}  {score.query:<20} {grades}")

        report = search_quality(judgments, progress=show)
        if not any(s.grades for s in report.scores):
            raise CommandError("Search found nothing: is the demo catalog seeded?")
        self.stdout.write(
            f"{len(report.scores)} judged queries: nDCG@10 {report.ndcg:.3f}, "
            f"first result relevant {report.first_relevant_share:.0%}"
        )
