"""Catalog's levers (prime_now.kernel.levers): what the catalog can shed under stress."""

from prime_now.kernel.levers import Criticality, declare

TYPO_SEARCH = declare(
    "catalog-typo-search",
    sheds="Search's typo-tolerant second pass (pg_trgm similarity): a query with a typo finds "
    "nothing instead of its near matches. Exact and prefix matches are unaffected.",
    owner="catalog",
    criticality=Criticality.LOW,
)
