"""The words shoppers use for the same thing: a small curated list, applied to queries.

Each group is a set of interchangeable words (a phrase is written with spaces); a query word in
a group matches any word of its group. Kept short on purpose: a synonym that is only sometimes
right ("pop" for "popcorn") does more harm than good, so only plain equivalents are listed.
"""

GROUPS: tuple[tuple[str, ...], ...] = (
    ("soda", "pop", "soft drink", "cola"),
    ("chips", "crisps"),
    ("cookies", "biscuits"),
    ("candy", "sweets"),
    ("diapers", "nappies"),
    ("tp", "toilet paper", "bath tissue"),
    ("paper towels", "kitchen roll"),
    ("zucchini", "courgette"),
    ("eggplant", "aubergine"),
    ("cilantro", "coriander"),
    ("scallions", "green onions", "spring onions"),
    ("garbanzo", "chickpeas"),
    ("ketchup", "catsup"),
    ("shrimp", "prawns"),
    ("ground beef", "mince", "minced beef"),
    ("detergent", "laundry soap"),
    ("dish soap", "washing up liquid"),
    ("booze", "alcohol"),
    ("yogurt", "yoghurt"),
    ("tv", "television"),
    ("phone charger", "charging cable"),
    ("pet food", "dog food", "cat food"),
)


def _index() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for group in GROUPS:
        for word in group:
            if " " not in word:
                found.setdefault(word, []).extend(w for w in group if w != word)
    return {word: tuple(dict.fromkeys(others)) for word, others in found.items()}


SYNONYMS = _index()


def synonyms_of(word: str) -> tuple[str, ...]:
    """The other words (or phrases) a query word stands for, or ()."""
    return SYNONYMS.get(word.lower(), ())
