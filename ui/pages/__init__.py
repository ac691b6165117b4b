"""What every page shares: the kb folder, the loaded KnowledgeBase and the collections store."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import streamlit as st

from retrieval.errors import FengqiaoError
from ui.store import CollectionStore

REPO = Path(__file__).resolve().parents[2]
# Tests may put a ready object here (same methods as KnowledgeBase) instead of loading a folder.
KB_OVERRIDE = "fengqiao_kb_override"
PAGE_FILES = {
    "ask": "pages/ask.py",
    "browse": "pages/browse.py",
    "collections": "pages/collections.py",
    "knowledge": "pages/knowledge.py",
}


def kb_dir() -> Path:
    """The knowledge-base folder: env ``FENGQIAO_KB``, else ``<repo>/kb``."""
    return Path(os.environ.get("FENGQIAO_KB") or REPO / "kb").expanduser().resolve()


@st.cache_resource(show_spinner="正在加载知识库……")
def _load_kb(path: str) -> Any:
    from retrieval.kb import KnowledgeBase

    kb = KnowledgeBase.load(path)
    # Warm the query path (tokenizer dictionary, encoder) while the user is still typing.
    threading.Thread(target=_warm, args=(kb,), daemon=True, name="fengqiao-warm").start()
    return kb


def _warm(kb: Any) -> None:
    try:
        kb.search("邻里纠纷如何调解", k=1, k_cases=1)
    except Exception:  # warming is best effort; the real search reports its own errors
        logging.getLogger(__name__).debug("warm-up search failed", exc_info=True)


def reload_kb() -> None:
    """Forget the loaded KB so the next call loads the (re)built index."""
    _load_kb.clear()


def get_kb(*, show_error: bool = True) -> Any | None:
    """The loaded KnowledgeBase, or None (after one st.error line) when it cannot be loaded."""
    override = st.session_state.get(KB_OVERRIDE)
    if override is not None:
        return override
    try:
        return _load_kb(str(kb_dir()))
    except FengqiaoError as exc:
        if show_error:
            hint = (
                exc.hint or "在“知识库”页导入法规文件，或在终端运行 fengqiao build --statutes 目录"
            )
            st.error(f"知识库无法加载：{exc.message} 建议：{hint}")
        return None
    except ImportError as exc:  # retrieval not installed completely
        if show_error:
            st.error(f"知识库模块无法导入：{exc} 建议：运行 pip install -r requirements.txt")
        return None


@st.cache_resource
def _store(path: str) -> CollectionStore:
    return CollectionStore.in_kb(path)


def get_store() -> CollectionStore:
    return _store(str(kb_dir()))


def kb_version(kb: Any) -> str:
    """Something that changes when the index is rebuilt (keys the per-session result memo)."""
    manifest = getattr(kb, "manifest", None) or {}
    return str(manifest.get("created") or manifest.get("corpus_checksum") or id(kb))
