"""Run ``fengqiao`` (ui/cli.py) with the fake embedder the fixture kb was built with.

Usage: python cli_fixture.py add FILE --kb KB_DIR (any ``fengqiao`` arguments), so a test can
run a command in another process beside a server started by ``serve_fixture.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path[:0] = [str(REPO), str(HERE)]

from ui_kb import fake_embedder  # noqa: E402

import retrieval.build  # noqa: E402
import retrieval.loader  # noqa: E402

retrieval.build.load_embedder = lambda *args, **kwargs: fake_embedder()  # type: ignore[assignment]
retrieval.loader.load_embedder = lambda *args, **kwargs: fake_embedder()  # type: ignore[assignment]

if __name__ == "__main__":
    from ui import cli

    sys.exit(cli.main(sys.argv[1:]))
