"""A small real knowledge base for the 办理提示 tests: the curated files the five questions of
issue 23 rest on (from FENGQIAO_CORPUS), built with the fake embedder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CURATED = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus") / "statutes"
SUBSET = (
    "诉讼与非诉讼程序法/人民调解法(2010-08-28).md",
    "诉讼与非诉讼程序法/劳动争议调解仲裁法(2007-12-29).md",
    "社会法/反家庭暴力法(2015-12-27).md",
    "行政法/治安管理处罚法(2012-10-26).md",
    "行政法规/工伤保险条例(2010-12-20).md",
    "行政法/土地管理法(2019-08-26).md",
    "司法解释/最高人民法院关于审理工伤保险行政案件若干问题的规定(2014-06-18).md",
    "民法典/总则.md",
)


def build_guidance_kb(root: Path) -> Path:
    """Copy ``SUBSET`` under ``root/statutes`` and build ``root/kb``; returns the kb folder."""
    from ui_kb import fake_embedder

    from retrieval.build import build_kb

    statutes = root / "statutes"
    for rel in SUBSET:
        (statutes / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CURATED / rel, statutes / rel)
    build_kb(root / "kb", statutes=[statutes], embedder=fake_embedder())
    return root / "kb"
