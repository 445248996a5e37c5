"""No import circle among the project's modules (counting imports made only for type checks).

And no module longer than 500 lines; the engine's front (``core/engine/front.py``) under 200.

The graph is read from the source (``ast``): every ``import`` and ``from ... import`` of a
project module anywhere in a file counts, inside functions and ``if TYPE_CHECKING:`` too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "ui", "resources")
#: The only modules that may import the main window: the app builds it, nothing it uses may
#: reach back to it (actions, panes and costs get narrow dependencies, see ui.action_ports).
MAIN_WINDOW_IMPORTERS = {"ui.app"}


def _modules() -> dict[str, Path]:
    found = {"main": ROOT / "main.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {module for module in found if module in known and module != name}


def import_graph() -> dict[str, set[str]]:
    """Each project module and the project modules it imports."""
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_checker_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    graph = import_graph()
    assert {"main", "ui.main_window", "core.engine", "core.jobs", "core.cli"} <= graph.keys()
    assert cycles(graph) == []


def test_the_graph_sees_type_checking_and_function_imports() -> None:
    """The checker would miss circles if it skipped these kinds of import."""
    graph = import_graph()
    assert "ui.review_panel" in graph["ui.detail_pane"]  # under TYPE_CHECKING and in a function
    assert "core.cli_batch" in graph["core.cli"]  # inside cmd_batch


def test_nothing_the_window_uses_imports_the_main_window() -> None:
    graph = import_graph()
    importers = {name for name, imported in graph.items() if "ui.main_window" in imported}
    assert importers == MAIN_WINDOW_IMPORTERS


#: A module a newcomer can read in one sitting; the engine's front stays a thin front.
MAX_MODULE_LINES = 500
MAX_ENGINE_FRONT_LINES = 200


def test_no_module_is_longer_than_a_newcomer_can_read() -> None:
    lengths = {name: len(path.read_text("utf-8").splitlines()) for name, path in _modules().items()}
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}
    assert lengths["core.engine.front"] <= MAX_ENGINE_FRONT_LINES
