"""Clause units: a question about one item of a long article finds that article."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ingest.records import Article
from retrieval.clauses import ClauseVectors
from retrieval.config import DEFAULT_CONFIG
from retrieval.loader import from_records
from retrieval.search import Searcher
from retrieval.units import clause_units
from tests.conftest import FakeEmbedder


# A long enumerating article (its items are about different things) and a short one that
# is closer to the question than the long one as a whole, not than its item (三).
def _article(number: int, label: str, text: str) -> Article:
    return Article(f"劳动法:{number}", "劳动法", "劳动法", number, "", label, text)


LONG = _article(
    38,
    "第三十八条",
    "用人单位有下列情形之一的，劳动者可以解除劳动合同：\n"
    "（一）未按照劳动合同约定提供劳动保护或者劳动条件的；\n"
    "（二）未及时足额支付劳动报酬的；\n"
    "（三）未依法为劳动者缴纳社会保险费的；\n"
    "（四）规章制度违反法律、法规的规定，损害劳动者权益的。\n"
    "用人单位违章指挥、强令冒险作业危及劳动者人身安全的，劳动者可以立即解除劳动合同。",
)
SHORT = _article(72, "第七十二条", "用人单位和劳动者必须依法参加社会保险，缴纳社会保险费。")
ONE = _article(1, "第一条", "为了保护劳动者的合法权益，制定本法。")


def test_an_item_carries_the_paragraph_that_introduces_it() -> None:
    units = clause_units([LONG, SHORT, ONE])
    assert {u.parent for u in units} == {LONG.id}  # single-paragraph articles have none
    assert len(units) == 6
    item = next(u for u in units if "社会保险费" in u.text)
    assert item.text == (
        "劳动法 第三十八条 用人单位有下列情形之一的，劳动者可以解除劳动合同："
        " （三）未依法为劳动者缴纳社会保险费的；"
    )
    assert item.section == "第1款（三）"
    last = units[-1]
    assert last.section == "第2款" and "违章指挥" in last.text and "（四）" not in last.text
    # searched by vector only: the keyword index keeps the article's own statistics
    assert all(u.kind == "clause" and u.keywords == "" for u in units)
    assert len({u.id for u in units}) == len(units)


def _vectors(rows: dict[str, list[float]]) -> ClauseVectors:
    units = [replace(clause_units([LONG])[0], id=f"{p}~{i}", parent=p) for i, p in enumerate(rows)]
    return ClauseVectors(units, np.array(list(rows.values()), np.float32))


def test_lift_scores_a_candidate_by_its_best_clause() -> None:
    clauses = _vectors({"a": [1.0, 0.0], "b": [0.5, 0.875], "c": [0.75, 0.5]})
    query = np.array([1.0, 0.0], np.float32)
    semantic = {"b": 0.625, "d": 0.25}
    # a (a keyword-run candidate) rises by its clause; b keeps its own higher score;
    # c is no candidate (filtered out, or found by no run) and stays out
    lifted = clauses.lift(semantic, query, ["b", "d", "a"], depth=3)
    assert lifted == {"a": 1.0, "b": 0.625, "d": 0.25}
    assert clauses.lift(semantic, query, ["a", "b", "c", "d"], depth=2) == {"a": 1.0, "c": 0.75}
    # a margin makes a clause count less than a whole article at the same cosine
    assert clauses.lift({"b": 0.9375}, query, ["a", "b", "c"], depth=3, margin=0.125) == {
        "b": 0.9375,
        "a": 0.875,
        "c": 0.625,
    }


def test_clause_vectors_survive_a_save_and_load(tmp_path: Path) -> None:
    units = clause_units([LONG])
    vecs = FakeEmbedder().encode_passages([u.text for u in units])
    ClauseVectors(units, vecs).save(tmp_path)
    back = ClauseVectors.load(tmp_path)
    assert back is not None and [u.id for u in back.units] == sorted(
        (u.id for u in units), key=lambda i: i.split("~")[0]
    )
    assert back.best(vecs[2], [LONG.id]) == ClauseVectors(units, vecs).best(vecs[2], [LONG.id])
    assert ClauseVectors.load(tmp_path / "old-index") is None  # an index built before them


def test_a_question_about_one_item_finds_its_article() -> None:
    loaded = from_records([LONG, SHORT, ONE], [], FakeEmbedder())
    searcher = Searcher(
        loaded.articles, loaded.cases, loaded.catalogue, loaded.tokenizer, loaded.embedder
    )
    dense = replace(DEFAULT_CONFIG, keyword=False, precedent=False, w_law=0.0)
    question = "单位没有给我缴纳社会保险费，我能解除劳动合同吗"

    def top(cfg):  # type: ignore[no-untyped-def]
        return searcher.search(question, k=3, k_cases=0, config=cfg).articles[0].record.id

    assert top(dense) == LONG.id
    assert top(replace(dense, clauses=False)) != LONG.id


def test_an_index_built_before_clause_units_still_answers(tiny_kb_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    import shutil

    from retrieval.clauses import CLAUSE_UNITS, CLAUSE_VECTORS
    from retrieval.service import Service

    old = tmp_path / "kb"
    shutil.copytree(tiny_kb_dir, old)
    assert (old / "index" / CLAUSE_VECTORS).exists()  # a build writes them
    for name in (CLAUSE_VECTORS, CLAUSE_UNITS):
        (old / "index" / name).unlink()
    service = Service.load(old, embedder=FakeEmbedder())
    assert service.searcher.articles.clauses is None
    assert service.searcher.search("离婚后孩子归谁抚养", k=3, k_cases=0).articles
