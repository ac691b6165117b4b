"""UI speed benchmark: cold start to first answer (< 10 s) and per-question time (< 1 s).

Usage: ``python bench/bench_ui.py [--kb DIR] [--json]``

Each measurement runs in a fresh Python process, so nothing is warm by accident:
cold start = imports, index and model load, first search and answer extraction
(direct calls), and a new Streamlit AppTest session rendering the first answer.
Per-question time asks every other question once (no repeats, so no query cache
helps): direct library calls, and a full AppTest rerun of the 问答检索 page
(search + answer panel + every card rendered). Figures depend on machine load,
which is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ui.samples import CITATIONS  # noqa: E402
from ui.samples import QUESTIONS as SAMPLE_QUESTIONS  # noqa: E402

# ui/samples.py: the one list (everyday questions, with the two citations among them)
QUESTIONS = (*SAMPLE_QUESTIONS[:7], *CITATIONS, SAMPLE_QUESTIONS[7])
TARGET_COLD_S = 10.0
TARGET_QUESTION_S = 1.0


def direct_child(kb: Path) -> dict:
    """In a fresh process: load, first answer, then every other question once (no repeats)."""
    t0 = time.perf_counter()
    from retrieval.answer import extract_answer
    from retrieval.service import Service

    base = Service.load(kb)
    t1 = time.perf_counter()
    times, encode = [], []
    for q in QUESTIONS:
        t = time.perf_counter()
        r = base.search(q, k=10, k_cases=5)
        extract_answer(q, r.articles, r.cases)
        times.append(time.perf_counter() - t)
        encode.append(r.timings_ms.get("encode", 0.0) / 1000)
    return {"load": t1 - t0, "first": times[0], "times": times[1:], "encode": encode[1:]}


def apptest_child(kb: Path) -> dict:
    """In a fresh process: a new AppTest session to the first rendered answer, then one rerun per question."""
    t0 = time.perf_counter()
    from streamlit.testing.v1 import AppTest

    os.environ["FENGQIAO_KB"] = str(kb)
    at = AppTest.from_file(str(REPO / "ui" / "app.py"), default_timeout=300)
    at.run()
    at.text_input(key="q").input(QUESTIONS[0]).run()
    cold = time.perf_counter() - t0
    if at.exception or at.error:
        raise SystemExit(f"错误：页面出错 {[e.value for e in at.error] or at.exception}")
    times = []
    for q in QUESTIONS[1:]:
        t = time.perf_counter()
        at.text_input(key="q").input(q).run()
        times.append(time.perf_counter() - t)
    return {"cold": cold, "times": times}


def _child(mode: str, kb: Path) -> dict:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--kb", str(kb), "--child", mode],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"错误：{mode} 测量失败：{out.stderr.strip().splitlines()[-1:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["wall"] = time.perf_counter() - start  # includes interpreter start-up
    return data


def _p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]


def main() -> None:
    from retrieval.kb_folder import default_kb

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, default=default_kb())
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", choices=("direct", "apptest"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run = direct_child if args.child == "direct" else apptest_child
        print(json.dumps(run(args.kb)))
        return
    if not (args.kb / "index" / "manifest.json").exists():
        raise SystemExit(f"错误：{args.kb} 中没有已构建的知识库。建议：先运行 fengqiao build。")
    load = os.getloadavg()[0]
    d = _child("direct", args.kb)
    a = _child("apptest", args.kb)
    rows = [
        ("冷启动到首个答案（新进程，直接调用）", d["wall"] - sum(d["times"]), TARGET_COLD_S),
        ("  其中：导入+加载知识库与模型", d["load"], None),
        ("  其中：首次检索与答案摘录", d["first"], None),
        ("冷启动到首个答案（新进程，AppTest 含渲染）", a["cold"], TARGET_COLD_S),
        ("每个问题：检索+摘录 中位数", statistics.median(d["times"]), TARGET_QUESTION_S),
        ("每个问题：检索+摘录 最慢", max(d["times"]), TARGET_QUESTION_S),
        ("  其中：问题向量编码 中位数", statistics.median(d["encode"]), None),
        ("每个问题：整页重跑（AppTest）中位数", statistics.median(a["times"]), TARGET_QUESTION_S),
        ("每个问题：整页重跑（AppTest）最慢", max(a["times"]), TARGET_QUESTION_S),
    ]
    if args.json:
        out = {name.strip(): round(v, 3) for name, v, _ in rows}
        print(
            json.dumps(
                {"kb": str(args.kb), "load_average": load, "figures_s": out}, ensure_ascii=False
            )
        )
        return
    print(
        f"知识库：{args.kb}　问题数：{len(QUESTIONS)}（每个只问一次）　开始时负载：{load:.2f}（{os.cpu_count()} 核）"
    )
    for name, value, target in rows:
        verdict = "" if target is None else ("达标" if value < target else "未达标")
        goal = f"< {target:.0f} s" if target else ""
        print(f"{name:<34}{value:8.3f} s   {goal:<8}{verdict}")


if __name__ == "__main__":
    main()
