"""What import-linter cannot see: SQL that names another app's table, and import cycles inside
an app (even through imports inside functions)."""

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest
from django.apps import AppConfig, apps

ROOT = Path(__file__).resolve().parents[2]
ROOT_PACKAGES = ("prime_now", "catalog", "fulfillment", "ordering", "delivery", "notifications")
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|JOIN|INTO)\b", re.IGNORECASE)


def our_apps() -> list[AppConfig]:
    return [config for config in apps.get_app_configs() if config.name.startswith(ROOT_PACKAGES)]


def owns(config: AppConfig, module: str) -> bool:
    """The module is the app's own (not a nested app's, as prime_now.kernel is in prime_now)."""
    if module != config.name and not module.startswith(config.name + "."):
        return False
    nested = [other.name for other in our_apps() if other.name.startswith(config.name + ".")]
    return not any(module == name or module.startswith(name + ".") for name in nested)


def app_label_of_table() -> dict[str, str]:
    return {
        model._meta.db_table: model._meta.app_label
        for model in apps.get_models(include_auto_created=True)
    }


def source_files(config: AppConfig) -> Iterator[tuple[str, Path]]:
    """The app's Python modules outside migrations, as (module name, path)."""
    base = Path(config.path)
    for path in sorted(base.rglob("*.py")):
        relative = path.relative_to(base).with_suffix("")
        if "migrations" in relative.parts:
            continue
        parts = [part for part in relative.parts if part != "__init__"]
        module = ".".join([config.name, *parts])
        if owns(config, module):
            yield module, path


def _value(module: str, expression: ast.expr) -> str:
    """An f-string's replacement field as the text it yields when it is a module-level name or
    attribute chain (`Order._meta.db_table`, `get_user_model()._meta.db_table`), else a blank."""
    nodes = list(ast.walk(expression))
    simple = all(
        isinstance(node, ast.Name | ast.Attribute | ast.Load)
        or (isinstance(node, ast.Call) and not node.args and not node.keywords)
        for node in nodes
    )
    if not simple:
        return " "
    try:
        found = eval(compile(ast.Expression(expression), "<sql>", "eval"), vars(import_(module)))
    except Exception:
        return " "
    return found if isinstance(found, str) else " "


def import_(module: str):
    return importlib.import_module(module)


def sql_texts(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """The strings of the module that read as SQL, with their line numbers (f-strings with the
    table names their fields name filled in)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inner.update(id(value) for value in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inner:
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                value.value
                if isinstance(value, ast.Constant)
                else _value(module, value.value)
                if isinstance(value, ast.FormattedValue)
                else " "
                for value in node.values
            )
        else:
            continue
        if SQL_WORDS.search(text):
            yield node.lineno, text


def foreign_tables_named(config: AppConfig) -> list[str]:
    owners = app_label_of_table()
    foreign = [table for table, label in owners.items() if label != config.label]
    pattern = re.compile(r"(?<![\w.])\"?(" + "|".join(map(re.escape, foreign)) + r")\"?(?!\w)")
    found = []
    for module, path in source_files(config):
        for line, text in sql_texts(module, path):
            for table in sorted(set(pattern.findall(text))):
                found.append(f"{path.relative_to(ROOT)}:{line} names {table} (app {owners[table]})")
    return found


@pytest.mark.parametrize("config", our_apps(), ids=lambda config: config.label)
def test_no_sql_names_another_apps_table(config):
    assert foreign_tables_named(config) == []


GRAPH = None


def import_graph() -> grimp.ImportGraph:
    global GRAPH
    if GRAPH is None:
        GRAPH = grimp.build_graph(*ROOT_PACKAGES, cache_dir=None)
    return GRAPH


def cycles_inside(config: AppConfig) -> list[str]:
    graph = import_graph()
    own = {module for module in graph.modules if owns(config, module)}
    edges = {
        module: sorted(graph.find_modules_directly_imported_by(module) & own - {module})
        for module in own
    }
    return cycles(edges)


def cycles(edges: dict[str, list[str]]) -> list[str]:
    """One cycle (a -> b -> ... -> a) per group of modules that import each other round in a
    circle (a strongly connected component), with the group's members."""
    found = []
    for component in _components(edges):
        if len(component) > 1:
            cycle = _cycle_through(min(component), edges, component)
            found.append(f"{' -> '.join(cycle)} (all of: {', '.join(sorted(component))})")
    return sorted(found)


def _components(edges: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _cycle_through(start: str, edges: dict[str, list[str]], within: set[str]) -> tuple[str, ...]:
    """The shortest way from start back to itself inside the component (breadth first)."""
    paths = {target: (start, target) for target in edges[start] if target in within}
    queue = list(paths)
    while queue:
        node = queue.pop(0)
        if node == start:
            return paths[node]
        for target in edges[node]:
            if target in within and target not in paths:
                paths[target] = (*paths[node], target)
                queue.append(target)
    return paths.get(start, (start,))


@pytest.mark.parametrize("config", our_apps(), ids=lambda config: config.label)
def test_no_import_cycle_inside_an_app(config):
    assert cycles_inside(config) == []


def test_a_cycle_is_found_however_long_and_a_chain_is_not_one():
    edges = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["d"]}

    assert cycles(edges) == ["a -> b -> c -> a (all of: a, b, c)"]
    assert cycles({"a": ["b"], "b": ["c"], "c": []}) == []
