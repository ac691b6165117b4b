"""How often an answer point (答案要点) is a clause that answers the question: before/after the bar.

usage: python bench/bench_answer_points.py [--kb DIR] [--queries tests/data/eval/answer_points.jsonl]
       [--show]

Each hand-labelled question lists the articles whose clauses answer it (``acceptable``:
the governing articles and interpretations), articles that would mislead (``wrong``)
and clause texts that would (``wrong_clauses``, e.g. 有遗嘱的 for an estate without a
will). A shown point is right when its article is acceptable and its text holds no
wrong clause. Each question is searched once; the points are extracted from the same
ranked articles without the bar (the panel before issue 21) and with it. Printed per
setting: points shown, precision, wrong points, questions with no point, questions
whose first point is right; then the three questions of issue 21 with their points.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ISSUE_QUESTIONS = (
    "丈夫欠了赌债，离婚时要我一起还吗？",
    "邻居家的狗把我孩子咬伤了，医药费谁出？",
    "父亲去世没留遗嘱，房子兄妹怎么分？",
)


@dataclass
class Tally:
    shown: int = 0
    right: int = 0
    wrong: int = 0
    empty: int = 0
    first_right: int = 0
    questions: int = 0
    per_question: list[float] = field(default_factory=list)

    def add(self, verdicts: list[str]) -> None:
        self.questions += 1
        self.shown += len(verdicts)
        self.right += verdicts.count("right")
        self.wrong += verdicts.count("wrong")
        self.empty += not verdicts
        self.first_right += bool(verdicts) and verdicts[0] == "right"
        if verdicts:
            self.per_question.append(verdicts.count("right") / len(verdicts))

    def line(self, name: str) -> str:
        precision = self.right / self.shown if self.shown else 0.0
        answered = self.questions - self.empty
        return (
            f"{name:7s} points {self.shown:4d}  precision {precision:.3f}  "
            f"wrong {self.wrong:3d} ({self.wrong / self.shown if self.shown else 0:.3f})  "
            f"no point {self.empty:3d}/{self.questions} ({self.empty / self.questions:.1%})  "
            f"first point right {self.first_right}/{answered}"
        )


def verdict(quote, row: dict) -> str:  # type: ignore[no-untyped-def]
    text = quote.lead + quote.text
    if quote.article_id in row.get("wrong", ()) or any(
        w in text for w in row.get("wrong_clauses", ())
    ):
        return "wrong"
    return "right" if quote.article_id in row["acceptable"] else "other"


def main() -> int:
    from retrieval.kb_folder import default_kb

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, default=default_kb())
    ap.add_argument(
        "--queries", type=Path, default=REPO / "tests" / "data" / "eval" / "answer_points.jsonl"
    )
    ap.add_argument("--show", action="store_true", help="print every question's points")
    a = ap.parse_args()

    from retrieval.answer import extract_answer
    from retrieval.config import AnswerConfig
    from retrieval.service import Service

    service = Service.load(a.kb)
    catalogue = service.catalogue
    rows = [json.loads(x) for x in a.queries.read_text(encoding="utf-8").splitlines() if x.strip()]
    settings = {"before": AnswerConfig(bar=False), "after": AnswerConfig()}
    tallies = {name: Tally() for name in settings}
    issue: dict[str, list[str]] = {}
    for row in rows:
        result = service.search(row["question"], k=10, k_cases=0)
        for name, cfg in settings.items():
            answer = extract_answer(
                row["question"],
                result.articles,
                cited=result.cited,
                config=cfg,
                related=lambda aid: [r.article for r in catalogue.related_interpretations(aid)],
                term_share=catalogue.term_share,
            )
            verdicts = [verdict(q, row) for q in answer.quotes]
            tallies[name].add(verdicts)
            lines = [
                f"    {v:5s} {q.citation} “{q.text[:50]}”"
                for q, v in zip(answer.quotes, verdicts, strict=True)
            ] or ["    （不列要点）"]
            if a.show:
                print(f"{row['id']} [{name}] {row['question']}")
                print("\n".join(lines))
            if name == "after" and row["question"] in ISSUE_QUESTIONS:
                issue[row["question"]] = lines
    print(f"questions: {len(rows)} ({a.queries.name}), knowledge base {a.kb}, top 10 articles")
    for name, tally in tallies.items():
        print(tally.line(name))
    print("\nissue 21's three questions, after:")
    for q in ISSUE_QUESTIONS:
        print(f"  {q}")
        print("\n".join(issue.get(q, ["    （不在题集中）"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
