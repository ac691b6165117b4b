"""The everyday mediation question set: valid format, and every gold article is real law."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import corpus_dir

from ingest.records import DISPUTE_TYPES
from retrieval.evaluate import read_queries

SET = Path(__file__).parent / "data" / "eval" / "everyday.jsonl"
NATIONAL = (
    "民法典 宪法 宪法相关法 民法商法 行政法 经济法 社会法 刑法 诉讼与非诉讼程序法 "
    "行政法规 司法解释 部门规章 其他"
).split()


def _rows() -> list[dict]:
    return [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line]


def test_everyday_set_is_valid_eval_format() -> None:
    rows = _rows()
    assert len(rows) >= 45
    assert [r["id"] for r in rows] == [f"everyday-{n:03d}" for n in range(1, len(rows) + 1)]
    assert len({r["query"] for r in rows}) == len(rows)
    for r in rows:
        assert r["source"] == "everyday"
        assert "curated" in r["tiers"]
        assert re.search(r"[\u4e00-\u9fff]{6}", r["query"]), r["id"]
        assert r["gold"], r["id"]
        for g in r["gold"]:
            # the shared eval normalisation: short law name, Arabic article number
            assert not re.search(r"[《》\s]|^中华人民共和国", g["law"]), g
            assert re.fullmatch(r"\d+(之[一二三四五六七八九十]+)?", g["article"]), g
        assert r["dispute_types"] and set(r["dispute_types"]) <= set(DISPUTE_TYPES), r["id"]
    # the evaluation reader takes it as it takes the shared sets
    assert len(read_queries(SET, "curated")) == len(rows)


def _current_ids(dirs: list[Path], cache: Path) -> set[str]:
    from ingest.statutes import load_statutes

    load = load_statutes(dirs, cache_dir=cache)
    return {a.id for a in load.articles if a.current and a.status == "现行有效"}


@pytest.mark.slow
def test_every_gold_article_is_in_the_curated_corpus(tmp_path: Path) -> None:
    ids = _current_ids([corpus_dir() / "statutes"], tmp_path)
    missing = [(q.id, g) for q in read_queries(SET, "curated") for g in q.gold if g not in ids]
    assert not missing


@pytest.mark.slow
def test_every_gold_article_of_the_national_tier_is_in_the_national_corpus(
    tmp_path: Path,
) -> None:
    full = corpus_dir() / "statutes_full"
    if not full.exists():
        pytest.skip("statutes_full not present")
    ids = _current_ids([full / d for d in NATIONAL], tmp_path)
    qs = read_queries(SET, "national")
    assert qs
    assert not [(q.id, g) for q in qs for g in q.gold if g not in ids]
