"""Pages only draw: they import types (never functions) from ``retrieval``, and each page's
protocol (ui/protocols.py) names exactly what that page calls on the service."""

from __future__ import annotations

import ast
import importlib
import inspect
import typing
from pathlib import Path

import pytest

from retrieval.service import Service
from ui import protocols

UI = Path(__file__).resolve().parents[1] / "ui"
PAGES = {  # page module → its protocol
    UI / "views" / "ask.py": protocols.AskService,
    UI / "views" / "browse.py": protocols.BrowseService,
    UI / "views" / "collections.py": protocols.CollectionsService,
    UI / "views" / "knowledge.py": protocols.KnowledgePage,
    UI / "views" / "precedents.py": protocols.PrecedentsPage,
}
DRAWING = [
    *PAGES,
    UI / "views" / "analysis.py",  # 研判: reads through retrieval.county's CountyView
    *(UI / name for name in ("widgets.py", "citation.py", "guidance_panel.py")),
    UI / "views" / "__init__.py",
]
# what a shared widget calls on the service it is handed
WIDGET_CALLS = {
    "data_freshness": {"freshness_notice"},
    "case_card": {"article"},
    "cited_list": {"article"},
    "get_admin": {"admin"},
}


def _imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    ]


@pytest.mark.parametrize("path", DRAWING, ids=lambda p: p.name)
def test_pages_import_only_types_from_retrieval(path: Path) -> None:
    functions = []
    for module, name in _imports(path):
        if module.split(".")[0] != "retrieval":
            continue
        value = getattr(importlib.import_module(module), name)
        is_type = inspect.isclass(value) or typing.get_origin(value) is not None  # Hit[Case]
        if callable(value) and not is_type:
            functions.append(f"{module}.{name}")
    assert not functions, f"{path.name} calls retrieval functions: {functions}"


def test_no_import_circle_between_views_and_widgets() -> None:
    ui_imports = {m for m, _ in _imports(UI / "views" / "__init__.py") if m.startswith("ui.")}
    assert ui_imports <= {"ui.session"}, ui_imports


def _members(proto: type) -> set[str]:
    return {
        name
        for klass in proto.__mro__
        if klass.__module__ == protocols.__name__
        for name in vars(klass)
        if not name.startswith("_")
    }


def _service_calls(path: Path) -> set[str]:
    """``service.X`` in the page, plus what the widgets it hands ``service`` to call."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            held = node.value
            if isinstance(held, ast.Call) and isinstance(held.func, ast.Name):
                held = held.func  # _service().record_precedent(…)
            if isinstance(held, ast.Name) and held.id in ("service", "_service"):
                calls.add(node.attr)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            handed = any(isinstance(a, ast.Name) and a.id == "service" for a in node.args)
            if handed:
                calls |= WIDGET_CALLS.get(node.func.id, set())
    return calls


@pytest.mark.parametrize("path", list(PAGES), ids=lambda p: p.name)
def test_each_page_protocol_names_what_the_page_calls(path: Path) -> None:
    proto = PAGES[path]
    called = _service_calls(path)
    if path.name == "collections.py":  # it hands the service to 案卷 drafts and exports
        called |= _service_calls(UI / "casefile.py") | {"article", "case"}
    assert _members(proto) == called, (proto.__name__, _members(proto) ^ called)


@pytest.mark.parametrize("proto", [*PAGES.values(), protocols.KnowledgeService])
def test_the_service_answers_every_page_call(proto: type) -> None:
    for name in _members(proto):
        ours = getattr(Service, name)
        want = getattr(proto, name)
        if isinstance(want, property):
            assert isinstance(ours, property), name
            continue
        have = list(inspect.signature(ours).parameters)
        need = list(inspect.signature(want).parameters)
        assert have[: len(need)] == need, (name, need, have)


@pytest.mark.parametrize(
    ("proto", "real"),
    [
        (protocols.KBAdmin, "retrieval.admin.Admin"),
        (protocols.PrecedentDesk, "retrieval.precedents.Precedents"),
    ],
)
def test_what_the_pages_reach_through_the_service_answers_them(proto: type, real: str) -> None:
    """``service.admin`` and ``service.precedents``: the real classes take the pages' calls."""
    module, name = real.rsplit(".", 1)
    klass = getattr(importlib.import_module(module), name)
    for member in _members(proto):
        want = getattr(proto, member)
        if isinstance(want, property):  # a property or a dataclass field
            fields = getattr(klass, "__dataclass_fields__", {})
            assert member in fields or isinstance(getattr(klass, member), property), member
            continue
        have = list(inspect.signature(getattr(klass, member)).parameters)
        need = list(inspect.signature(want).parameters)
        assert have[: len(need)] == need, (member, need, have)
