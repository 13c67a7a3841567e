"""Imports point one way: no module of the portal imports, directly or through others, a module
that imports it back. Imports inside functions count too: one placed there to dodge a circle
means the code sits in the wrong module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "portal",
    "parties",
    "covenants",
    "statements",
    "compliance",
    "alerts",
    "documents",
    "syndicate",
    "execution",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, name: str) -> set[str]:
    """Every module the file imports, anywhere in it, resolved to absolute names."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            found.add(module)
            # "from . import tasks" names a module, not an attribute.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    return {name: {m for m in imported_modules(path, name) if m in files and m != name} for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def test_the_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_the_portal_imports_itself_back():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


# The apps from the bottom up: each imports only the apps below it. Parties know nothing of
# deals; the agreements (and the access rule, which reads their roles) know nothing of
# statements; evaluation reads statements; alerts consume evaluation's events; the site
# (pages, API, admin) sits on top.
LAYERS = ("parties", "covenants", "documents", "statements", "compliance", "alerts", "syndicate", "execution", "portal")


def app_edges(graph: dict[str, set[str]]) -> set[tuple[str, str, str, str]]:
    """(importing app, imported app, module, imported module) for every import across apps."""
    return {
        (name.split(".")[0], target.split(".")[0], name, target)
        for name, targets in graph.items()
        for target in targets
        if name.split(".")[0] != target.split(".")[0]
    }


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    rank = {app: i for i, app in enumerate(LAYERS)}
    return sorted(f"{module} -> {target}" for app, other, module, target in app_edges(graph) if rank[other] > rank[app])


def test_the_layer_check_finds_an_upward_import():
    assert upward_imports({"parties.models": {"covenants.models"}, "covenants.models": set()}) == [
        "parties.models -> covenants.models"
    ]


def test_every_app_imports_only_the_apps_below_it():
    assert set(PACKAGES) == set(LAYERS)
    assert upward_imports(import_graph()) == []
