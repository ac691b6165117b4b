"""How right the interpretation ↔ article links by subject are, per threshold and margin.

usage: python bench/bench_interpretations.py [--statutes DIR | --kb DIR]
       [--labels tests/data/eval/interpretation_links.tsv]

Each labelled interpretation article lists the articles of the law it interprets that it
refines (hand-checked; none when it refines no article of that law). For each setting
printed: links made, links right (precision), and labelled articles found (recall).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    corpus = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
    ap.add_argument("--statutes", type=Path, default=corpus / "statutes")
    ap.add_argument("--kb", type=Path, default=None, help="read articles from a built index")
    ap.add_argument(
        "--labels", type=Path, default=REPO / "tests" / "data" / "eval" / "interpretation_links.tsv"
    )
    a = ap.parse_args()

    from retrieval.config import SUBJECT_MARGIN, SUBJECT_THRESHOLD
    from retrieval.interpretations import InterpretationLinks

    if a.kb is not None:
        from retrieval.index_folder import IndexFolder

        articles = IndexFolder.of(a.kb).read_records().articles
    else:
        from ingest.statutes import load_statutes

        articles = load_statutes([a.statutes], workers=1).articles
    if not articles:
        print(f"no articles under {a.kb or a.statutes}; set --statutes or FENGQIAO_CORPUS")
        return 1
    labels: dict[str, set[str]] = {}
    for line in a.labels.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            iid, _, want = line.partition("\t")
            labels[iid] = {w for w in want.split(",") if w}
    wanted = sum(len(v) for v in labels.values())
    print(f"labelled interpretation articles: {len(labels)} ({wanted} links expected)")
    print("threshold  margin  linked  right  precision  recall")
    for threshold in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4):
        for margin in (1.0, 0.9, SUBJECT_MARGIN, 0.8):
            links = InterpretationLinks(articles, threshold=threshold, margin=margin)
            made = [(iid, bid) for iid in labels for bid in links.refines(iid)]
            right = sum(bid in labels[iid] for iid, bid in made)
            mark = (
                "  ← shipped" if (threshold, margin) == (SUBJECT_THRESHOLD, SUBJECT_MARGIN) else ""
            )
            print(
                f"{threshold:9.2f}  {margin:6.2f}  {len(made):6d}  {right:5d}  "
                f"{right / len(made) if made else 0:9.2f}  {right / wanted:6.2f}{mark}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
