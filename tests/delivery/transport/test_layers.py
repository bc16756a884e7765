"""Transport sits below delivery's entry points and its door: it enqueues work by task name,
never by importing the task module, and no import cycle holds delivery together."""

import ast
from pathlib import Path

import grimp
import pytest

TRANSPORT = Path(__file__).resolve().parents[3] / "delivery" / "transport"


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("delivery")


@pytest.mark.parametrize("above", ["tasks", "api", "admin", "handlers", "management", "services"])
def test_transport_imports_nothing_above_it(graph, above):
    # Given delivery's import graph
    # When looking for any chain from transport to an entry point or the door
    chain = graph.find_shortest_chain(importer="delivery.transport", imported=f"delivery.{above}")
    # Then there is none
    assert chain is None


def test_delivery_has_no_import_cycle(graph):
    # Given every direct import between two modules of delivery
    cycles = [
        (importer, imported)
        for importer in sorted(graph.modules)
        for imported in graph.find_modules_directly_imported_by(importer)
        # When the imported module leads back to the importer
        if graph.chain_exists(importer=imported, imported=importer)
    ]
    # Then there is no such pair
    assert cycles == []


def test_transport_imports_only_at_the_top_of_its_modules():
    # Given transport's modules
    late = []
    for path in sorted(TRANSPORT.glob("*.py")):
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        # When an import statement is found inside a function or class
        late += [
            f"{path.name}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top
        ]
    # Then there is none (no import placed late to dodge a cycle)
    assert late == []
