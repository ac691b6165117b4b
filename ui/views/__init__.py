"""The pages: each draws what ui/session.py hands it (the service, the stores).

The folder is not called ``pages/``: next to the entry script that name makes Streamlit
run each file as a page of its own (its first multipage mode), skipping ui/app.py's
navigation, settings and error guard on a link opened first after a restart.
"""

from __future__ import annotations

from ui.session import (
    REPO,
    SERVICE_OVERRIDE,
    county_view,
    get_admin,
    get_service,
    get_store,
    kb_dir,
)

__all__ = [
    "PAGE_FILES",
    "REPO",
    "SERVICE_OVERRIDE",
    "county_view",
    "get_admin",
    "get_service",
    "get_store",
    "kb_dir",
]

PAGE_FILES = {
    "analysis": "views/analysis.py",
    "ask": "views/ask.py",
    "browse": "views/browse.py",
    "collections": "views/collections.py",
    "knowledge": "views/knowledge.py",
    "precedents": "views/precedents.py",
}
