"""Case ingest benchmark: cases per source, kind and trust, outcomes, citation verdicts, 脱敏, classifier.

Usage:
    python3 bench/bench_cases.py [--cases DIR ...] [--statutes DIR ...] [--json]

Defaults: the real corpus (FENGQIAO_CORPUS or ../shared/corpus): ``cases/`` and
``statutes_full/``. Not a test: it prints numbers for the README and the issue.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.anonymise import Anonymiser, masking_scores  # noqa: E402
from ingest.cases import link_cases, load_cases  # noqa: E402
from ingest.cases.classify import classify  # noqa: E402
from ingest.cases.link import ArticleIndex, source_key  # noqa: E402
from ingest.records import TYPICAL, VERDICTS, IngestReport  # noqa: E402

CORPUS = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
TESTDATA = REPO / "tests" / "data"


def anonymisation() -> dict[str, dict[str, float]]:
    out = {}
    for name in ("sentences", "heldout", "heldout2"):
        rows = [
            json.loads(x)
            for x in (TESTDATA / "anonymise" / f"{name}.jsonl").read_text("utf-8").splitlines()
            if x
        ]
        outputs = [Anonymiser()(r["input"]) for r in rows]
        out[name] = masking_scores(
            [r["input"] for r in rows], [r["expected"] for r in rows], outputs
        )
    return out


def classifier(cases: dict) -> dict[str, dict[str, float]]:
    out = {}
    for name in ("dispute_labels", "dispute_labels_heldout"):
        lines = (TESTDATA / "cases" / f"{name}.tsv").read_text("utf-8").splitlines()
        labels = dict(x.split("\t") for x in lines if x and not x.startswith("#"))
        have = {i: t for i, t in labels.items() if i in cases}
        right = sum(
            classify(cases[i].section("问题"), cases[i].cited).dispute_type == t
            for i, t in have.items()
        )
        out[name] = {"n": len(have), "accuracy": right / len(have) if have else 0.0}
    typical = [
        c for c in cases.values() if c.kind == TYPICAL and c.dispute_type_origin == "metadata"
    ]
    right = sum(
        classify(
            "\n".join(
                b
                for n, b in c.sections
                if n in ("基本案情", "要点", "裁判要旨", "关键词", "争议焦点")
            ),
            c.cited,
            title=c.title,
        ).dispute_type
        == c.dispute_type
        for c in typical
    )
    out["typical_cases_with_folder_type"] = {
        "n": len(typical),
        "accuracy": right / len(typical) if typical else 0.0,
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, nargs="*", default=[CORPUS / "cases"])
    ap.add_argument("--statutes", type=Path, nargs="*", default=[CORPUS / "statutes_full"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    report = IngestReport()
    t0 = time.perf_counter()
    cases = load_cases(args.cases, report=report)
    t_load = time.perf_counter() - t0

    from ingest.statutes import load_statutes

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        articles = load_statutes(args.statutes, cache_dir=Path(tmp)).articles
    t_statutes = time.perf_counter() - t0
    index = ArticleIndex(articles)
    t0 = time.perf_counter()
    linked, links = link_cases(cases, index)
    t_link = time.perf_counter() - t0

    per_source: dict[str, Counter[str]] = defaultdict(Counter)
    for c in linked:
        per_source[source_key(c)][c.dispute_type] += 1
    present: Counter[str] = Counter()
    present_resolved: Counter[str] = Counter()
    for c in linked:
        for x in c.cited:
            if x.law and index.law_name(x.law):
                present[source_key(c)] += 1
                present_resolved[source_key(c)] += bool(x.resolved_id)
    result: dict[str, Any] = {
        "cases": len(linked),
        "seconds": {
            "load_cases": round(t_load, 1),
            "load_statutes": round(t_statutes, 1),
            "link_cases": round(t_link, 2),
        },
        "by_source_and_type": {s: dict(t.most_common()) for s, t in sorted(per_source.items())},
        "by_kind": dict(Counter(c.kind for c in linked)),
        "by_trust": dict(Counter(c.trust for c in linked)),
        "typical_with_outcome": sum(bool(c.outcome) for c in linked if c.kind == TYPICAL),
        "typical": sum(c.kind == TYPICAL for c in linked),
        "typical_result_labels": dict(
            Counter(c.result.label for c in linked if c.kind == TYPICAL).most_common()
        ),
        "outcomes_by_kind": dict(Counter(c.kind for c in linked if c.outcome)),
        "type_origin": dict(Counter(c.dispute_type_origin for c in linked)),
        "citations": {
            s: {
                "total": links.total[s],
                "resolved": links.resolved[s],
                "rate": round(links.rate(s), 4),
                "to_laws_in_kb": present[s],
                "rate_laws_in_kb": round(present_resolved[s] / present[s], 4)
                if present[s]
                else None,
                "repealed": links.repealed[s],
                "verdicts": {v: links.count(s, v) for v in VERDICTS},
                "quotes_compared": links.quoted[s],
            }
            for s in sorted(links.total)
        },
        "unresolved_typical": [
            f"{u.raw}（{u.law} 第{u.article}条）：{u.reason}"
            for u in links.unresolved
            if u.case_id.startswith("lawrefbook")
        ],
        "unresolved_reasons": dict(
            Counter(u.reason.split("（")[0] for u in links.unresolved).most_common(8)
        ),
        "anonymisation": anonymisation(),
        "masked_in_corpus": [n for n in report.notes if n.startswith("脱敏")],
        "classifier": classifier({c.id: c for c in linked}),
        "problems": len(report.problems),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    print(
        f"案例 {result['cases']} 件；读取 {t_load:.1f} s，法规 {t_statutes:.1f} s（{len(articles)} 条），链接 {t_link:.2f} s"
    )
    for s, types in result["by_source_and_type"].items():
        print(
            f"  {s}: {sum(types.values())} 件  " + "、".join(f"{t} {n}" for t, n in types.items())
        )
    print("类型：" + "，".join(f"{k} {v} 件" for k, v in result["by_kind"].items()))
    print("可信度：" + "，".join(f"{k} {v} 件" for k, v in result["by_trust"].items()))
    print(
        f"典型案例有处理结果 {result['typical_with_outcome']}/{result['typical']}："
        + "，".join(f"{k} {v}" for k, v in result["typical_result_labels"].items())
    )
    print("有处理结果（可作为“处理结果”展示）的案例：" + str(result["outcomes_by_kind"] or "无"))
    print("引用解析：")
    for s, r in result["citations"].items():
        print(
            f"  {s}: {r['resolved']}/{r['total']} = {r['rate']:.1%}；指向知识库已收录法律的 {r['to_laws_in_kb']} 条中解析 "
            f"{r['rate_laws_in_kb']:.1%}；引用已废止法律 {r['repealed']} 条"
        )
        print(
            "    核对："
            + "，".join(f"{k} {v}" for k, v in r["verdicts"].items())
            + f"（比对引文 {r['quotes_compared']} 条）"
        )
    for line in result["unresolved_typical"]:
        print(f"    未解析（典型案例）：{line}")
    print("脱敏（字符级）：")
    for name, sc in result["anonymisation"].items():
        print(
            f"  {name}: 精确率 {sc['precision']:.3f} 召回率 {sc['recall']:.3f} 整句正确 {sc['exact']:.1%}（{int(sc['sentences'])} 句）"
        )
    print("  " + "；".join(result["masked_in_corpus"]))
    print("纠纷类型分类器：")
    for name, sc in result["classifier"].items():
        print(f"  {name}: 准确率 {sc['accuracy']:.1%}（{sc['n']} 件）")


if __name__ == "__main__":
    main()
