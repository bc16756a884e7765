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


def test_no_import_cycle_inside_ordering():
    # Given ordering's modules and their direct imports of each other
    graph = grimp.build_graph(*FIRST_PARTY)
    modules = graph.find_descendants("ordering") | {"ordering"}
    imports = {
        module: {m for m in graph.find_modules_directly_imported_by(module) if m in modules}
        for module in modules
    }
    # When walked depth first, then no module is reached again from itself
    done: set[str] = set()

    def cycle_from(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(imports[module]):
            found = cycle_from(imported, [*path, module])
            if found:
                return found
        done.add(module)
        return None

    assert [cycle for m in sorted(modules) if (cycle := cycle_from(m, []))] == []
