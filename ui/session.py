"""What the pages share, per server: the knowledge-base folder, the loaded service (reloaded
when a build swaps the index), the collections store and the county store's pool.

The app's wiring lives here, not in ``ui/views``: a page draws what it is handed and
takes only types from ``retrieval``; this module loads (``retrieval.loader``) and hands
out the objects the pages call.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from ingest.errors import FengqiaoError
from retrieval.index_folder import REPO
from retrieval.kb_folder import KBFolder, default_kb
from ui.protocols import KBAdmin, KnowledgeService
from ui.store import CollectionStore

if TYPE_CHECKING:
    from retrieval.admin import Live
    from retrieval.county.analysis import CountyView
    from retrieval.service import Service

__all__ = ["REPO", "county_view", "get_admin", "get_service", "get_store", "kb_dir"]

# Tests may put a ready KnowledgeService here instead of loading a folder.
SERVICE_OVERRIDE = "fengqiao_service_override"


def kb_dir() -> Path:
    """The knowledge-base folder: env ``FENGQIAO_KB``, else ``<repo>/kb``."""
    return default_kb().resolve()


@st.cache_resource
def _live(path: str) -> Live[Service]:
    """The folder's service, reloaded when a build swaps its index (``retrieval.admin.Live``)."""
    from retrieval.admin import Live

    return Live(KBFolder(Path(path)), functools.partial(_load, Path(path)))


def _load(path: Path, before: Service | None) -> Service:
    # the store from env FENGQIAO_STORE (set by `fengqiao serve --store`), else the folder's files
    from retrieval.index_folder import IndexFolder
    from retrieval.loader import store_factory
    from retrieval.service import Service

    embedder = None
    if before is not None:  # a rebuild with the same model: keep the loaded model
        model = IndexFolder.of(path).manifest().get("model", {})
        if model.get("key") == before.embedder.key:
            embedder = before.embedder
    with st.spinner("正在加载知识库……"):
        service = Service.load(path, stores=store_factory(), embedder=embedder)
    # Warm the query path (tokenizer dictionary, encoder) while the user is still typing.
    threading.Thread(target=_warm, args=(service,), daemon=True, name="fengqiao-warm").start()
    return service


def _warm(service: KnowledgeService) -> None:
    try:
        service.ask("邻里纠纷如何调解", k=1, k_cases=1)
    except Exception:  # warming is best effort; the real search reports its own errors
        logging.getLogger(__name__).debug("warm-up search failed", exc_info=True)


def get_service(*, show_error: bool = True, admin: bool = False) -> KnowledgeService | None:
    """The loaded service, or None (after one st.error line) when it cannot be loaded.

    A mediator is told to ask the administrator; the folder, the cause and the command
    to run are shown on the administrator's page (``admin=True``) only.
    """
    override = st.session_state.get(SERVICE_OVERRIDE)
    if override is not None:
        return override  # type: ignore[no-any-return]
    try:
        return _live(str(kb_dir())).current()
    except FengqiaoError as exc:
        if show_error and admin:
            from ui.text import md

            hint = exc.hint or "在下面导入法规文件"
            st.error(md(f"知识库无法加载：{exc.message} 建议：{hint}"))
        elif show_error:
            st.error(
                "知识库还没有准备好，暂时不能检索。建议：请知识库管理员打开“知识库”页查看原因并更新。"
            )
        return None


def get_admin(service: KnowledgeService | None) -> KBAdmin:
    """Importing files into the knowledge base: with the loaded model when there is one."""
    from retrieval.admin import Admin

    if service is not None:
        try:
            return service.admin
        except FengqiaoError:  # a service made from records in memory has no folder of its own
            pass
    return Admin(KBFolder(kb_dir()))


@st.cache_resource
def _store(path: str) -> CollectionStore:
    return CollectionStore.in_kb(path)


def get_store() -> CollectionStore:
    return _store(str(kb_dir()))


@contextlib.contextmanager
def county_view(uri: str, demo: bool = False) -> Iterator[CountyView]:
    """The 研判 page's reads on one pooled connection (one pool per server process, so a
    view sets up no connection: ui/county_warm.py)."""
    from retrieval.county import analysis

    with analysis.pool(uri, demo).view() as view:
        yield view
