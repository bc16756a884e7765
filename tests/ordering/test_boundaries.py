"""Ordering imports nothing but catalog's door and the kernel (so cancelling can only release
stock and windows through the OrderCancelled event, which delivery subscribes to)."""

import grimp

FIRST_PARTY = ("prime_now", "catalog", "fulfillment", "ordering", "delivery")
ALLOWED = ("catalog.services", "catalog.events", "prime_now.kernel")


def _outside_imports() -> set[tuple[str, str]]:
    graph = grimp.build_graph(*FIRST_PARTY)
    found = set()
    for module in graph.find_descendants("ordering") | {"ordering"}:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.split(".")[0] in FIRST_PARTY and not imported.startswith("ordering"):
                found.add((module, imported))
    return found


def test_ordering_imports_only_catalogs_door_and_the_kernel():
    outside = _outside_imports()
    assert outside, "the graph should see ordering's imports of catalog and the kernel"
    forbidden = {
        (module, imported)
        for module, imported in outside
        if not any(imported == a or imported.startswith(a + ".") for a in ALLOWED)
    }
    assert forbidden == set()


def test_nothing_in_ordering_reaches_fulfillment_or_delivery_even_indirectly():
    graph = grimp.build_graph(*FIRST_PARTY)
    for other in ("fulfillment", "delivery"):
        assert not graph.chain_exists(importer="ordering", imported=other, as_packages=True)
