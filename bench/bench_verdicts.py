"""Citation verdicts on the real cases: coverage, counts per source, precision of the misquoted flag.

Usage:
    python bench/bench_verdicts.py [--kb DIR | --statutes DIR ...] [--cases DIR ...] [--json]

Defaults: the curated knowledge base /work/kb-old (its ``index/articles.jsonl``;
``FENGQIAO_KB_OLD`` overrides) and the real cases (FENGQIAO_CORPUS or
../shared/corpus ``cases/``). ``--statutes`` checks against statutes read from
folders instead (e.g. ``statutes_full`` for the national tier). Precision is
taken from the hand labels in tests/data/cases/misquote_labels.tsv; a flagged
citation without a label is listed so it can be labelled. Not a test: it
prints numbers for the README and the issue.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.cases import link_cases, load_cases  # noqa: E402
from ingest.cases.link import ArticleIndex  # noqa: E402
from ingest.cases.verdicts import MISQUOTE_THRESHOLD  # noqa: E402
from ingest.records import VERDICTS, Article, IngestReport  # noqa: E402

CORPUS = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
KB_OLD = Path(os.environ.get("FENGQIAO_KB_OLD") or "/work/kb-old")
LABELS = REPO / "tests" / "data" / "cases" / "misquote_labels.tsv"
# The examples issue 11 names, with what the check should say about each.
EXAMPLES = (
    ("lawyer-llama-0158", "婚姻法", "32", "invented text for 婚姻法第三十二条"),
    ("lawyer-llama-0653", "宅基地条例", "16", "a 宅基地条例 that does not exist"),
    ("lawyer-llama-0729", "刑法", "263", "刑法第263条 called 猥亵 (it is robbery)"),
    ("lawbench-3-8-0176", "刑法", "263", "刑法第263条 quoted with the theft text"),
)


@dataclass(frozen=True)
class Label:
    kind: str  # quote | restatement
    label: int
    category: str


def read_labels(path: Path = LABELS) -> dict[tuple[str, str, str], Label]:
    out: dict[tuple[str, str, str], Label] = {}
    rows = [x for x in path.read_text("utf-8").splitlines() if x and not x.startswith("#")]
    for row in rows[1:]:
        case_id, law, article, kind, _kbs, label, category, _note = row.split("\t")
        out[(case_id, law, article)] = Label(kind, int(label), category)
    return out


def load_articles(args: argparse.Namespace) -> tuple[list[Article], str]:
    if args.statutes:
        from ingest.statutes import load_statutes

        with tempfile.TemporaryDirectory() as tmp:
            load = load_statutes(args.statutes, cache_dir=args.cache or Path(tmp))
        return list(load.articles), " ".join(map(str, args.statutes))
    path = args.kb / "index" / "articles.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [Article.from_dict(json.loads(line)) for line in fh if line.strip()], str(args.kb)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, default=KB_OLD)
    ap.add_argument("--statutes", type=Path, nargs="*", default=[])
    ap.add_argument("--cases", type=Path, nargs="*", default=[CORPUS / "cases"])
    ap.add_argument("--cache", type=Path, default=None, help="parse cache folder (reused)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    articles, kb_name = load_articles(args)
    cases = load_cases(args.cases, report=IngestReport(), cache_dir=args.cache)
    linked, report = link_cases(cases, ArticleIndex(articles))
    labels = read_labels()

    cites = [(case, c) for case in linked for c in case.cited]
    with_verdict = sum(bool(c.verdict) for _, c in cites)
    checked = sum(c.verdict in ("ok", "misquoted", "older_version", "repealed") for _, c in cites)
    compared = [c.similarity for _, c in cites if c.similarity is not None]
    flagged = [(case, c) for case, c in cites if c.verdict == "misquoted"]
    labelled = [(case, c, labels.get((case.id, c.law or "", c.article))) for case, c in flagged]
    judged = [lab for _, _, lab in labelled if lab is not None and lab.kind == "quote"]
    missing = [f"{case.id}\t{c.law}\t{c.article}" for case, c, lab in labelled if lab is None]
    restated = [lab for lab in labels.values() if lab.kind == "restatement"]
    bins = Counter(min(int(s * 10), 9) for s in compared)
    examples = {}
    by_id = {case.id: case for case in linked}
    for case_id, law, article, what in EXAMPLES:
        case = by_id.get(case_id)
        found = [c for c in case.cited if c.law == law and c.article == article] if case else []
        examples[what] = (
            f"{found[0].verdict}：{found[0].verdict_note}" if found else "（未找到该引用）"
        )
    result: dict[str, Any] = {
        "kb": kb_name,
        "articles": len(articles),
        "cases": len(linked),
        "citations": len(cites),
        "coverage": with_verdict / len(cites) if cites else 0.0,
        "checked_against_text_or_repeal_list": checked / len(cites) if cites else 0.0,
        "quotes_compared": len(compared),
        "threshold": MISQUOTE_THRESHOLD,
        "similarity_deciles": [bins[i] for i in range(10)],
        "verdicts_by_source": {
            src: {v: report.count(src, v) for v in VERDICTS} for src in sorted(report.total)
        },
        "misquoted": len(flagged),
        "misquoted_labelled": len(judged),
        "misquoted_precision": sum(x.label for x in judged) / len(judged) if judged else None,
        "misquoted_categories": dict(Counter(x.category for x in judged if x.label)),
        "misquoted_unlabelled": missing,
        "restatement_experiment": {
            "labelled": len(restated),
            "wrong": sum(x.label for x in restated),
        },
        "issue_examples": examples,
        "report_lines": report.lines(),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    print(f"知识库 {kb_name}：{len(articles)} 条；案例 {len(linked)} 件，引用 {len(cites)} 条")
    print(
        f"有核对结论的引用 {result['coverage']:.1%}；其中对照条文或废止表得出结论（相符/不符/已废止）"
        f" {result['checked_against_text_or_repeal_list']:.1%}，其余为知识库无此法律/无此条"
    )
    print(
        f"比对引文 {len(compared)} 条，相似度分布（0.0-0.1 … 0.9-1.0）：{result['similarity_deciles']}"
    )
    for line in report.lines():
        print("  " + line)
    if judged:
        print(
            f"“引文不符”标记 {len(flagged)} 条，已人工标注 {len(judged)} 条，"
            f"精确率 {result['misquoted_precision']:.1%}（阈值 {MISQUOTE_THRESHOLD}）；"
            f"类别：{result['misquoted_categories']}"
        )
    else:
        print(f"“引文不符”标记 {len(flagged)} 条，无人工标注")
    for row in missing:
        print(f"    未标注：{row}")
    print(
        f"对照实验（未启用）：把“规定，”后的转述也当引文比对，抽样标注 {len(restated)} 条中"
        f"真正说错的 {result['restatement_experiment']['wrong']} 条"
    )
    print("议题中的例子：")
    for what, verdict in examples.items():
        print(f"  {what}: {verdict}")


if __name__ == "__main__":
    main()
