"""Serve ui/app.py over a kb built with the fake embedder (used by the browser test).

Usage: python serve_fixture.py KB_DIR PORT (served as `fengqiao serve` would, on 127.0.0.1)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path[:0] = [str(REPO), str(HERE)]

import functools  # noqa: E402

from ui_kb import fake_config, fake_embedder  # noqa: E402

import retrieval.loader  # noqa: E402
import retrieval.service  # noqa: E402

# The index was built with the fake embedder: load it with the same one, in this process,
# and with the search settings calibrated for it.
retrieval.loader.load_embedder = lambda *args, **kwargs: fake_embedder()  # type: ignore[assignment]
_load = retrieval.service.Service.load
retrieval.service.Service.load = functools.partial(_load, config=fake_config())  # type: ignore[method-assign]

if __name__ == "__main__":
    from streamlit.web import cli

    kb_dir, port = sys.argv[1], sys.argv[2]
    os.environ["FENGQIAO_KB"] = kb_dir
    from ui.cli import streamlit_options

    # the settings `fengqiao serve` uses (upload limit, XSRF, no file watching …)
    sys.argv = [
        "streamlit",
        "run",
        str(REPO / "ui" / "app.py"),
        *streamlit_options("127.0.0.1", int(port)),
    ]
    sys.exit(cli.main())
