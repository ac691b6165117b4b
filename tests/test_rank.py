"""The bench's learned re-ranker (bench/rank.py, research kept out of the product):
article facts, candidate features, training, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import rank as R
from ingest.records import Article


def _art(law: str, n: int, text: str, path: tuple[str, ...], level: str = "法律") -> Article:
    return Article(
        id=f"{law}:{n}",
        law=law,
        law_title=law,
        number=n,
        suffix="",
        label=f"第{n}条",
        text=text,
        path=path,
        level=level,
    )


ARTICLES = [
    _art("民法典", 1, "为了保护民事主体的合法权益，制定本法。", ("第一编 总则", "第一章 基本规定")),
    _art(
        "民法典",
        2,
        "民法调整平等主体之间的人身关系和财产关系。",
        ("第一编 总则", "第一章 基本规定"),
    ),
    _art(
        "民法典",
        1245,
        "饲养的动物造成他人损害的，动物饲养人应当承担侵权责任。",
        ("第七编 侵权责任", "第九章 饲养动物损害责任"),
    ),
    _art(
        "民法典",
        1246,
        "违反管理规定，未对动物采取安全措施造成他人损害的，应当承担侵权责任。",
        ("第七编 侵权责任", "第九章 饲养动物损害责任"),
    ),
    _art(
        "治安管理处罚法",
        75,
        "饲养动物，干扰他人正常生活的，处警告；警告后不改正的，处罚款。",
        ("第三章 违反治安管理的行为和处罚",),
    ),
    _art("治安管理处罚法", 120, "违反本法规定的，依法追究法律责任。", ("第六章 法律责任",)),
]


def _tokens(text: str) -> list[str]:
    # bigrams stand in for jieba: deterministic and enough for overlap features
    return [text[i : i + 2] for i in range(len(text) - 1) if text[i : i + 2].strip()]


@pytest.fixture
def catalogue() -> R.Catalogue:
    cited = [
        ("民法典:1245",),
        ("民法典:1245", "民法典:1245", "民法典:1246"),
        ("治安管理处罚法:75",),
    ]
    return R.Catalogue.build(ARTICLES, _tokens, cited)


def test_catalogue_places_articles_and_counts_each_case_once(catalogue: R.Catalogue) -> None:
    f = catalogue.facts["民法典:1246"]
    assert f.chapter_size == 2 and f.position_chapter == 1.0 and f.law_size == 4
    assert catalogue.facts["民法典:1"].general_part and not f.general_part
    assert catalogue.facts["治安管理处罚法:120"].liability
    assert not catalogue.facts["治安管理处罚法:75"].liability
    assert f.level == R.LEVELS.index("法律")
    # a case citing an article twice counts once
    assert catalogue.cited["民法典:1245"] == 2
    assert catalogue.law_cited["民法典"] == 3
    # priors recomputed without some cases (leave-source-out) keep the facts
    fewer = catalogue.with_priors([("民法典:1246",)])
    assert fewer.cited.get("民法典:1245", 0) == 0 and fewer.facts is catalogue.facts


def _cands() -> list[R.Candidate]:
    return [
        R.Candidate(
            "民法典:1246",
            1.5,
            keyword=8.0,
            semantic=0.86,
            precedent=0.6,
            precedent_cases=2,
            cited_best=0.9,
        ),
        R.Candidate("治安管理处罚法:75", 1.2, keyword=None, semantic=0.84),
        R.Candidate("民法典:1245", 1.0, keyword=4.0, semantic=None),
    ]


def test_features_describe_each_candidate(catalogue: R.Catalogue) -> None:
    q = "邻居家的狗没拴绳把孩子咬伤了，派出所能罚款吗？"
    x = R.features(q, _tokens(q), _cands(), catalogue)
    assert x.shape == (3, len(R.FEATURES)) and x.dtype == np.float32
    col = {n: x[:, i] for i, n in enumerate(R.FEATURES)}
    # a run that did not return a candidate ranks it after all it returned
    assert col["kw_rank"][1] > col["kw_rank"][2] > col["kw_rank"][0]
    assert col["kw_rel"].tolist() == [1.0, 0.0, 0.5]
    assert col["sem_rank"][2] == pytest.approx(np.log1p(4))
    assert col["prec_cases"].tolist() == [2, 0, 0]
    assert col["prior_article"][2] > col["prior_article"][0] > 0  # 1245 cited twice, 1246 once
    assert col["query_penalty"][0] >= 2  # 派出所, 罚款
    assert col["law_named"].tolist() == [0, 0, 0]
    assert col["fused_rel"].tolist() == [1.0, pytest.approx(0.4), 0.0]
    # two candidates of 民法典 against one of the other law: the law's evidence is larger
    assert col["law_share"][0] == 1.0 and col["law_share"][1] < 1.0


def test_features_see_a_named_law(catalogue: R.Catalogue) -> None:
    q = "根据治安管理处罚法，养狗扰民怎么处理？"
    x = R.features(q, _tokens(q), _cands(), catalogue)
    named = x[:, R.FEATURES.index("law_named")]
    assert named.tolist() == [0, 1, 0]
    assert R.features(q, [], [], catalogue).shape == (0, len(R.FEATURES))


def _synthetic(rng: np.random.Generator, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Groups whose relevant candidate is the one with the largest precedent lift."""
    j = R.FEATURES.index("prec_lift")
    out = []
    for _ in range(n):
        x = rng.normal(size=(20, len(R.FEATURES))).astype(np.float32)
        y = np.zeros(20, np.float32)
        y[int(np.argmax(x[:, j]))] = 1
        out.append((x, y))
    return out


def test_train_learns_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    model = R.train(_synthetic(rng, 300), params=R.TrainParams(rounds=40, min_data_in_leaf=20))
    test = _synthetic(rng, 50)
    hits = sum(int(y[int(np.argmax(model.score(x)))]) for x, y in test)
    assert hits >= 40
    assert R.importances(model)[0][0] == "prec_lift"
    path = tmp_path / "ranker.txt"
    model.save(path)
    again = R.Ranker.load(path)
    x, _ = test[0]
    assert np.allclose(again.score(x), model.score(x))
    cands = [R.Candidate(f"a:{i}", 0.0) for i in range(20)]
    order = [a for a, _ in again.rerank(cands, x)]
    assert order[0] == f"a:{int(np.argmax(model.score(x)))}" and sorted(order) == sorted(
        c.article_id for c in cands
    )


def test_load_refuses_a_model_of_other_features(tmp_path: Path) -> None:
    import lightgbm as lgb

    from retrieval.errors import KBError

    x = np.random.default_rng(1).normal(size=(40, 2))
    booster = lgb.train(
        {"objective": "regression", "verbose": -1, "min_data_in_leaf": 5},
        lgb.Dataset(x, label=x[:, 0], feature_name=["a", "b"]),
        num_boost_round=2,
    )
    path = tmp_path / "other.txt"
    path.write_text(booster.model_to_string())
    with pytest.raises(KBError, match="重新训练"):
        R.Ranker.load(path)


def test_train_needs_a_relevant_candidate() -> None:
    x = np.zeros((3, len(R.FEATURES)), np.float32)
    with pytest.raises(ValueError):
        R.train([(x, np.zeros(3, np.float32))])
