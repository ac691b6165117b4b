"""The scale benchmark's CI-sized run: every backend builds, answers and is scored against exact search."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

# the curated knowledge base's case counts by dispute type (the real distribution)
TYPES = {
    "婚姻家庭": 967,
    "劳动劳务": 161,
    "房屋宅基地": 76,
    "继承": 71,
    "其他": 70,
    "合同借贷": 65,
    "道路交通": 46,
    "消费维权": 34,
    "损害赔偿": 32,
    "医疗纠纷": 10,
    "物业服务": 9,
    "邻里关系": 6,
}


def fake_case_index(folder: Path, n: int = 400) -> None:
    """cases.faiss/cases.jsonl/case_units.jsonl as a built KB has them, e5-like vectors
    (a shared direction plus spread) so the benchmark runs without the real KB."""
    import faiss

    rng = np.random.default_rng(0)
    common = rng.normal(size=384)
    v = (
        3 * common / np.linalg.norm(common) + rng.normal(size=(n, 384)) / np.sqrt(384) * 1.5
    ).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(384)
    index.add(v)
    folder.mkdir(parents=True)
    faiss.write_index(index, str(folder / "cases.faiss"))
    names = list(TYPES)
    p = np.array(list(TYPES.values()), float)
    types = rng.choice(len(names), n, p=p / p.sum())
    with (folder / "cases.jsonl").open("w") as f, (folder / "case_units.jsonl").open("w") as u:
        for i, t in enumerate(types):
            f.write(
                json.dumps({"id": f"k{i}", "dispute_type": names[t]}, ensure_ascii=False) + "\n"
            )
            u.write(json.dumps({"id": f"k{i}#问题", "parent": f"k{i}"}) + "\n")


def test_small_scale_benchmark_runs_and_scores(tmp_path: Path) -> None:
    fake_case_index(tmp_path / "kb" / "index")
    out = tmp_path / "table.md"
    cmd = [
        sys.executable,
        str(REPO / "bench" / "bench_scale.py"),
        "--small",
        "--kb",
        str(tmp_path / "kb"),
        "--work",
        str(tmp_path / "work"),
        "--out",
        str(out),
    ]
    subprocess.run(cmd, check=True, cwd=REPO, timeout=600, capture_output=True)
    table = out.read_text(encoding="utf-8")
    rows = [
        line.split("|")[1:-1]
        for line in table.splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    rows = [r for r in rows if len(r) == 12]  # the main table, not the flat-by-size one
    backends = {r[0].strip() for r in rows[1:]}
    assert {
        "exact flat (FAISS store: numpy + masks)",
        "FAISS IVF-Flat",
        "FAISS HNSW",
        "Milvus-lite FLAT",
    } <= backends
    for r in rows[1:]:
        recall = float(r[7])
        assert 0.0 <= recall <= 1.0
        if r[0].strip().startswith("exact") or r[0].strip().startswith("Milvus"):
            assert recall == 1.0 and r[8].strip().endswith("/ 1.000")  # exact search is exact
    assert "20,000 case vectors" in table and "Targets:" in table
