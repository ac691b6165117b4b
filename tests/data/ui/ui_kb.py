"""A real Service for UI tests: fixture statutes and cases, built with a fake embedder."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATUTES = HERE / "statutes"
CASES = HERE / "cases"
# A typical case whose citations check out badly (a law that does not exist, a misquote):
# only the browser test's kb holds it, so the page tests' case counts stay as they are.
CHECKED_CASES = HERE / "cases_checked"
TESTS = HERE.parents[1]


def fake_embedder() -> object:
    """The project's fake deterministic embedder (``tests/conftest.py``), importable from scripts."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from conftest import FakeEmbedder

    return FakeEmbedder()


def build_fixture_kb(
    kb_dir: Path, embedder: object | None = None, *, more_cases: tuple[Path, ...] = ()
) -> Path:
    """Build ``kb_dir/index`` from the fixture statutes and cases; returns ``kb_dir``."""
    from retrieval.build import build_kb

    build_kb(
        kb_dir,
        statutes=[STATUTES],
        cases=[CASES, *more_cases],
        embedder=embedder or fake_embedder(),
    )
    return kb_dir


def fake_config():  # type: ignore[no-untyped-def]
    """Search settings for the fake embedder (its cosines are lower than e5's)."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from conftest import FAKE_CONFIG

    return FAKE_CONFIG


def load_fixture_kb(kb_dir: Path, embedder: object | None = None):  # type: ignore[no-untyped-def]
    from retrieval.service import Service

    return Service.load(kb_dir, embedder=embedder or fake_embedder(), config=fake_config())  # type: ignore[arg-type]
