"""The imports go one way: ``findings`` uses ``scanners``, never the other way round, and no
two modules of either import each other.

Read from the source (the AST), so an import hidden inside a function or behind
``TYPE_CHECKING`` counts as much as one at the top of a module. No database, no Django.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("auditdash", "findings", "scanners")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: str) -> dict[str, Path]:
    """Every module of ``package`` (migrations aside: Django runs them, nothing imports them)."""
    return {
        module_name(path): path
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def imported(path: Path) -> Iterator[tuple[str, int]]:
    """(dotted name, line) of everything ``path`` imports, wherever the import statement is.
    ``from a import b`` gives ``a.b`` (which may be a module or a name in ``a``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


SCANNERS = modules("scanners")


@pytest.mark.parametrize("module", sorted(SCANNERS))
def test_scanners_imports_nothing_of_findings_and_no_django_models(module: str) -> None:
    path = SCANNERS[module]
    management = _within(module, "scanners.management")
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for name, line in imported(path)
        if _within(name, "findings")
        or _within(name, "auditdash")
        or _within(name, "django.db")
        or (_within(name, "django") and not management)
    ]
    assert wrong == []


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the project it imports (a name imported from a module is an
    edge to that module; a package's own ``__init__`` re-exports are edges too)."""
    known: dict[str, Path] = {}
    for package in PACKAGES:
        known |= modules(package)
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        targets = set()
        for name, _ in imported(path):
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_two_modules_of_the_project_import_each_other() -> None:
    assert cycles(import_graph()) == []


def test_the_cycles_once_hidden_in_function_level_imports_stay_gone() -> None:
    graph = import_graph()

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo += graph.get(node, ())
        return False

    once_cyclic = [
        ("findings.tasks", "findings.services.ingest.pipeline"),
        ("findings.services.evidence", "findings.services.repositories"),
        ("findings.services.documents", "findings.services.document_planning"),
    ]
    for upper, lower in once_cyclic:
        assert reaches(upper, lower), f"{upper} no longer uses {lower}: update this test"
        assert not reaches(lower, upper), f"{lower} imports {upper} again"


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
