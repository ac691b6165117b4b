"""The import graph of ingest/, retrieval/ and ui/: no circles, layers import downwards only,
pages take only types from retrieval.

Read with ``ast`` (nothing is imported). Every ``import``/``from … import`` counts: at
module level, inside functions (an import deferred into a function still ties the two
modules together, it only hides the circle until that function runs) and under ``if
TYPE_CHECKING:`` (a circle of types is still a circle: the two modules cannot be
understood, or moved, one without the other).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("ingest", "retrieval", "ui")
LAYER = {"ingest": 0, "retrieval": 1, "ui": 2}


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``names`` from ``target`` (a module of the tree) at ``line``."""

    source: str
    target: str
    names: tuple[str, ...]  # the names taken with ``from target import …`` (empty: import target)
    line: int
    in_function: bool
    type_only: bool = False  # under ``if TYPE_CHECKING:``


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            out[_module_name(path)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


Found = tuple[ast.Import | ast.ImportFrom, bool, bool]  # (statement, in a function, type-only)


def _imports(tree: ast.AST) -> Iterator[Found]:
    """Every import statement, with whether it sits in a function or under TYPE_CHECKING."""

    def walk(node: ast.AST, in_function: bool, type_only: bool) -> Iterator[Found]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function, type_only
            inside = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.body:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), inside, True)
                for stmt in child.orelse:
                    yield from walk(ast.Module(body=[stmt], type_ignores=[]), inside, type_only)
                continue
            yield from walk(child, inside, type_only)

    yield from walk(tree, False, False)


@functools.cache
def edges() -> list[Edge]:
    """Imports between modules of the tree (``from pkg import module`` resolves to the module)."""
    known = modules()
    out: list[Edge] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node, in_function, type_only in _imports(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = alias.name
                    while target and target not in known:
                        target = target.rpartition(".")[0]
                    if target:
                        out.append(Edge(name, target, (), node.lineno, in_function, type_only))
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:  # from retrieval import fusion: the module itself
                    out.append(Edge(name, sub, (), node.lineno, in_function, type_only))
                elif base in known:
                    out.append(Edge(name, base, (alias.name,), node.lineno, in_function, type_only))
    return [e for e in out if e.target != e.source]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _graph(es: list[Edge]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for e in es:
        graph.setdefault(e.source, set()).add(e.target)
    return graph


def test_the_walker_sees_function_level_imports_and_resolves_modules() -> None:
    tree = ast.parse(
        "import os\nfrom retrieval import fusion\n"
        "def f():\n    from ingest.records import Article\n"
        "if TYPE_CHECKING:\n    from ui import store\n"
    )
    found = [(type(n).__name__, inside, typed) for n, inside, typed in _imports(tree)]
    assert found == [
        ("Import", False, False),
        ("ImportFrom", False, False),
        ("ImportFrom", True, False),
        ("ImportFrom", False, True),
    ]
    es = edges()
    assert any(e.source == "retrieval.search" and e.target == "retrieval.fusion" for e in es)
    assert any(e.in_function for e in es)  # deferred imports are in the graph
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles() -> None:
    found = cycles(_graph(edges()))
    assert found == [], "import circles (module-level, function-level and type-only imports):\n" + (
        "\n".join(" ↔ ".join(c) for c in found)
    )


def test_layers_import_downwards_only() -> None:
    """ingest imports nothing from retrieval or ui; retrieval nothing from ui."""
    wrong = [
        f"{e.source}:{e.line} imports {e.target}"
        for e in edges()
        if LAYER[e.target.split(".")[0]] > LAYER[e.source.split(".")[0]]
    ]
    assert wrong == []


@functools.cache
def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _definition(module: str, name: str, known: dict[str, Path], seen: int = 0) -> str:
    """What ``name`` is in ``module``: class, constant (an UPPER_CASE or CapWords
    assignment: a value or a type alias), function, module or unknown; re-exports are
    followed to where the name is defined."""
    if f"{module}.{name}" in known:
        return "module"
    path = known.get(module)
    if path is None or seen > 10:
        return "unknown"
    for node in _parsed(path).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return "class"
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return "function"
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Name) and t.id == name:
                return "constant" if name.isupper() or name[:1].isupper() else "function"
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _definition(node.module, alias.name, known, seen + 1)
    return "unknown"


def page_imports_of_functions() -> list[str]:
    """What the pages (``ui/views``) take from ``retrieval`` that is not a type or constant."""
    known = modules()
    wrong = []
    for e in edges():
        if not (e.source.startswith("ui.views") and e.target.startswith("retrieval")):
            continue
        if not e.names:
            wrong.append(f"{e.source}:{e.line} imports the module {e.target}")
            continue
        for n in e.names:
            kind = _definition(e.target, n, known)
            if kind not in ("class", "constant"):
                wrong.append(f"{e.source}:{e.line} imports {kind} {e.target}.{n}")
    return wrong


def test_the_type_check_tells_a_function_from_a_type() -> None:
    known = modules()
    assert _definition("retrieval.hits", "Filters", known) == "class"
    assert _definition("retrieval.fusion", "ranked", known) == "function"
    assert _definition("retrieval.config", "DEFAULT_CONFIG", known) == "constant"
    assert _definition("retrieval", "fusion", known) == "module"


def test_pages_take_only_types_from_retrieval() -> None:
    """A page draws what the service hands it: from ``retrieval`` it imports records,
    dataclasses, Protocols and constants, never a function that computes."""
    assert page_imports_of_functions() == []


def test_every_error_lives_in_an_errors_module_under_fengqiao_error() -> None:
    """Errors are one family: defined in their package's ``errors.py``, all under
    ``FengqiaoError``, so the CLI and the pages print any of them as one line."""
    import importlib

    from ingest.errors import FengqiaoError

    outside, loose = [], []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [ast.unparse(b) for b in node.bases]
            if not any(b.endswith(("Error", "Exception")) for b in bases):
                continue
            if path.name != "errors.py":
                outside.append(f"{name}.{node.name}")
            elif not issubclass(getattr(importlib.import_module(name), node.name), FengqiaoError):
                loose.append(f"{name}.{node.name}")
    assert outside == [] and loose == [], (
        f"outside errors.py: {outside}; not FengqiaoError: {loose}"
    )
