"""Search on a tiny knowledge base with the fake embedder: golden hits, citations, filters, JSON."""

from __future__ import annotations

import json
from dataclasses import replace

from conftest import FAKE_CONFIG, FakeEmbedder

from retrieval.config import CONFIGS
from retrieval.hits import Filters
from retrieval.serialise import answered_json


def ids(result):
    return [h.record.id for h in result.articles]


def test_divorce_question_finds_1079_first(tiny_kb):
    res = tiny_kb.search("男方不同意离婚，女方可以怎么办？", k=5)
    assert ids(res)[0] == "民法典:1079"
    top = res.articles[0]
    assert top.rank == 1 and "semantic" in top.why.sources and "keyword" in top.why.sources
    assert "离婚" in top.why.matched_terms


def test_noise_question_finds_294(tiny_kb):
    assert "民法典:294" in ids(tiny_kb.search("邻居装修噪音很大，晚上也施工，怎么处理？", k=5))


def test_citation_forms_pin_the_article_first(tiny_kb):
    for q, want in [
        ("民法典第1079条", "民法典:1079"),
        ("第一千零七十九条是怎么规定的", "民法典:1079"),
        ("《民法典》第二百九十四条", "民法典:294"),
        ("劳动合同法第三十八条第一款", "劳动合同法:38"),
        ("依据《中华人民共和国劳动合同法》第38条，公司欠薪我能走吗", "劳动合同法:38"),
    ]:
        res = tiny_kb.search(q, k=3)
        assert ids(res)[0] == want, q
        assert res.articles[0].why.sources[0] == "citation"
        assert res.cited and res.cited[0].resolved_id == want


def test_repealed_law_citation_gives_notice_with_suggestions(tiny_kb):
    res = tiny_kb.search("婚姻法第32条规定感情破裂可以离婚吗", k=5)
    notice = res.notices[0]
    assert notice.level == "warning" and "婚姻法" in notice.text and "废止" in notice.text
    assert "建议" in notice.text and "并非官方" in notice.text
    assert notice.suggestions and all(s.startswith("民法典:") for s in notice.suggestions)
    assert res.cited[0].repealed


def test_filters_restrict_laws_and_keep_current_law(tiny_kb):
    res = tiny_kb.search("解除劳动合同", k=20, filters=Filters(laws=("劳动合同法",)))
    assert res.articles and all(h.record.law == "劳动合同法" for h in res.articles)
    res = tiny_kb.search("解除劳动合同", k=50)
    assert all(
        h.record.current and h.record.status in ("现行有效", "尚未施行") for h in res.articles
    )


def test_case_hits_one_per_case_with_section(tiny_kb):
    res = tiny_kb.search("楼上装修晚上电钻施工太吵", k=3, k_cases=3)
    cids = [h.record.id for h in res.cases]
    assert cids[0] == "case-noise" and len(cids) == len(set(cids))
    assert res.cases[0].why.section in ("基本案情", "争议焦点")
    only_family = Filters(dispute_types=("婚姻家庭",))
    # the filter is the user's choice of types: nothing of another type comes through ...
    no_floor = replace(tiny_kb.config, similar_floor=0.0, similar_floor_untyped=0.0)
    res = tiny_kb.search("装修噪音", k_cases=3, filters=only_family, config=no_floor)
    assert [h.record.id for h in res.cases] == ["case-divorce"]
    # ... and a divorce case is still not "similar" to a noise question: none is shown
    assert tiny_kb.search("装修噪音", k_cases=3, filters=only_family).cases == []


def test_similar_cases_agree_on_the_dispute_type_and_cite_the_cited_article(tiny_kb):
    res = tiny_kb.search("邻居装修噪音很大，晚上也施工，怎么处理？", k=3, k_cases=5)
    assert [h.record.dispute_type for h in res.cases] == ["邻里关系"]
    res = tiny_kb.search("民法典第1079条", k=3, k_cases=5)
    assert [h.record.id for h in res.cases] == ["case-divorce"]
    assert res.cases[0].why.sources == ("citation",)


def test_precedent_lifts_cited_article_and_exclusion_removes_it(tiny_kb):
    q = "公司连续三个月拖欠工资，我能不能辞职并要补偿？"
    res = tiny_kb.search(q, k=10)
    hit = next(h for h in res.articles if h.record.id == "劳动合同法:38")
    assert "precedent" in hit.why.sources and "lawbench-3-8-9999" in hit.why.via_cases
    res = tiny_kb.search(q, k=10, filters=Filters(exclude_case_ids=("lawbench-3-8-9999",)))
    assert all("lawbench-3-8-9999" not in h.why.via_cases for h in res.articles)
    assert all(h.record.id != "lawbench-3-8-9999" for h in res.cases)


def test_every_config_runs(tiny_kb):
    for cfg in CONFIGS.values():
        res = tiny_kb.search("离婚", k=3, config=cfg)
        assert len(res.articles) == 3


def test_search_cases_and_lookups(tiny_kb):
    assert tiny_kb.lookup("中华人民共和国民法典", "第一千零七十九条").id == "民法典:1079"
    assert tiny_kb.lookup("《民法典》", "1079").id == "民法典:1079"
    assert [a.id for a in tiny_kb.catalogue.neighbours("民法典:1079", 1)] == [
        "民法典:1078",
        "民法典:1079",
        "民法典:1080",
    ]
    assert "民法典:294" in [a.id for a in tiny_kb.catalogue.chapter("民法典:288")]
    assert [c.id for c in tiny_kb.cases_citing("民法典:294")] == ["case-noise"]
    laws = {info.law: info for info in tiny_kb.laws()}
    assert laws["劳动合同法"].articles == 9 and laws["民法典"].current
    assert tiny_kb.stats().cases == 3


def test_query_json_matches_interface(tiny_kb):
    answered = tiny_kb.ask("男方不同意离婚，女方可以怎么办？", k=2, k_cases=1)
    d = json.loads(json.dumps(answered_json(answered), ensure_ascii=False))
    a = d["articles"][0]
    for key in (
        "rank",
        "id",
        "law",
        "law_title",
        "article",
        "label",
        "path",
        "text",
        "status",
        "citation",
        "score",
    ):
        assert key in a
    assert a["article"] == "1079" and a["citation"] == "《中华人民共和国民法典》第一千零七十九条"
    for key in ("rank", "id", "title", "kind", "dispute_type", "outcome", "cited", "score"):
        assert key in d["cases"][0]
    # the answer points are verbatim clauses of the articles they cite
    assert d["answer"], d
    for point in d["answer"]:
        assert point["text"] in tiny_kb.article(point["article_id"]).text
        assert point["citation"] == tiny_kb.article(point["article_id"]).citation


WOMEN_2018 = """# 中华人民共和国妇女权益保障法

<!-- INFO END -->

第一条 为了保障妇女的合法权益，促进男女平等，制定本法。

第二条 女方在怀孕期间、分娩后一年内或者终止妊娠后六个月内，男方不得提出离婚。
"""

WOMEN_2022 = """# 中华人民共和国妇女权益保障法

<!-- INFO END -->

第一条 为了保障妇女的合法权益，促进男女平等，制定本法。

第二条 国家采取必要措施，促进男女平等，消除对妇女一切形式的歧视。

第三条 女方在怀孕期间、分娩后一年内或者终止妊娠后六个月内，男方不得提出离婚。
"""


def test_citation_of_a_renumbered_article_names_where_the_old_text_went(tmp_path, fake_embedder):
    from retrieval.build import build_kb
    from retrieval.service import Service

    src = tmp_path / "statutes" / "社会法"
    src.mkdir(parents=True)
    (src / "妇女权益保障法(2018-10-26).md").write_text(WOMEN_2018, encoding="utf-8")
    (src / "妇女权益保障法(2022-10-30).md").write_text(WOMEN_2022, encoding="utf-8")
    build_kb(tmp_path / "kb", statutes=[tmp_path / "statutes"], embedder=fake_embedder)
    kb = Service.load(tmp_path / "kb", embedder=fake_embedder)

    # the citation still resolves to the current article of that number, verbatim ...
    res = kb.search("妇女权益保障法第二条", k=3)
    assert ids(res)[0] == "妇女权益保障法:2"
    assert res.articles[0].record.text.startswith("国家采取必要措施")
    # ... and says that the older version's 第二条 is now 第三条
    (notice,) = res.notices
    assert notice.level == "info" and "2018-10-26" in notice.text and "现为第三条" in notice.text
    assert notice.suggestions == ("妇女权益保障法:3",)
    # an article whose number kept its text gets no notice
    assert not kb.search("妇女权益保障法第一条", k=3).notices


def test_freshness_notice_names_the_data_date_and_warns_when_old(tiny_kb):
    import datetime

    catalogue = tiny_kb.catalogue
    as_of = datetime.date.fromisoformat(catalogue.data_as_of)
    assert catalogue.data_as_of == max(a.publish for a in tiny_kb.articles if len(a.publish) == 10)
    fresh = catalogue.freshness_notice(as_of + datetime.timedelta(days=30))
    assert fresh.level == "info" and catalogue.data_as_of in fresh.text
    old = catalogue.freshness_notice(as_of + datetime.timedelta(days=400))
    # a mediator is told whom to ask; the command is for the administrator's page only
    assert old.level == "warning" and "距今 400 天" in old.text and "管理员" in old.text
    assert "fengqiao" not in old.text


def test_articles_use_the_article_side_vector_and_cases_the_base_one(tiny_kb_dir):
    """With a query adapter, a question has two vectors: the adapted one is searched
    against articles, the base one against cases (their precedent and similar-case floors
    were calibrated on base cosines; the adapter lowers them by ~0.09)."""
    from conftest import FAKE_CONFIG, FakeEmbedder

    from retrieval.service import Service

    class ArticleSide(FakeEmbedder):
        """Encodes the article-side question as another text, as an adapter moves it."""

        def __init__(self, moved_to: str) -> None:
            super().__init__()
            self.moved_to, self.asked = moved_to, []
            self.query_key = f"{self.key}-moved"

        def encode_article_queries(self, texts):
            self.asked += list(texts)
            return self.encode_queries([self.moved_to] * len(texts))

    q, noise = "公司连续三个月拖欠工资，我能不能辞职并要补偿？", "邻居装修噪声太大"
    base = Service.load(tiny_kb_dir, embedder=FakeEmbedder(), config=FAKE_CONFIG)
    emb = ArticleSide(noise)
    moved = Service.load(tiny_kb_dir, embedder=emb, config=FAKE_CONFIG)
    dense = CONFIGS["dense"]
    got = moved.search(q, k=5, config=dense)
    assert emb.asked == [q]
    assert (
        ids(got)
        == ids(base.search(noise, k=5, config=dense))
        != ids(base.search(q, k=5, config=dense))
    )
    assert got.cases
    assert [c.record.id for c in got.cases] == [
        c.record.id for c in base.search(q, k=5, config=dense).cases
    ]


def test_without_an_adapter_a_question_is_encoded_once(tiny_kb_dir):
    from conftest import FAKE_CONFIG, FakeEmbedder

    from retrieval.service import Service

    class Counting(FakeEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.encoded: list[str] = []

        def encode_queries(self, texts):
            self.encoded += list(texts)
            return super().encode_queries(texts)

        def encode_article_queries(self, texts):
            self.encoded += list(texts)
            return super().encode_queries(texts)

    emb = Counting()
    Service.load(tiny_kb_dir, embedder=emb, config=FAKE_CONFIG).search("邻居装修噪声太大", k=5)
    assert emb.encoded.count("邻居装修噪声太大") == 1


class TwoCalls(FakeEmbedder):
    """A query-adapted fake (articles see the question moved to another text, as an adapter
    moves it) that records which call encoded what."""

    MOVED_TO = "邻居装修噪声太大"

    def __init__(self) -> None:
        super().__init__()
        self.query_key = f"{self.key}-moved"
        self.log: list[tuple[str, tuple[str, ...]]] = []

    def encode_queries(self, texts):
        self.log.append(("base", tuple(texts)))
        return super().encode_queries(texts)

    def encode_article_queries(self, texts):
        self.log.append(("articles", tuple(texts)))
        return super().encode_queries([self.MOVED_TO] * len(texts))


class OnePass(TwoCalls):
    """The same vectors, and both of a question from one call (as the twin ONNX export)."""

    def encode_question_pair(self, texts):
        self.log.append(("pair", tuple(texts)))
        moved = [self.MOVED_TO] * len(texts)
        return FakeEmbedder.encode_queries(self, texts), FakeEmbedder.encode_queries(self, moved)


def test_an_adapted_question_is_encoded_in_one_pass(tiny_kb_dir):
    """Both vectors of an adapted question (cases: base, articles: adapted) come from one
    call of the embedder's pair method, and the results are those of two calls."""
    from retrieval.service import Service

    q = "公司连续三个月拖欠工资，我能不能辞职并要补偿？"
    one, two = OnePass(), TwoCalls()
    got = Service.load(tiny_kb_dir, embedder=one, config=FAKE_CONFIG).search(q, k=5)
    want = Service.load(tiny_kb_dir, embedder=two, config=FAKE_CONFIG).search(q, k=5)
    assert one.log == [("pair", (q,))]
    assert two.log == [("base", (q,)), ("articles", (q,))]
    assert (
        ids(got)
        == ids(want)
        != ids(
            Service.load(tiny_kb_dir, embedder=FakeEmbedder(), config=FAKE_CONFIG).search(q, k=5)
        )
    )
    assert got.cases and [c.record.id for c in got.cases] == [c.record.id for c in want.cases]


def test_an_expanded_dense_text_keeps_two_calls(tiny_kb_dir):
    """When the article side encodes another text (``expand_dense``), the pair method does
    not apply: the base vector of the question, the adapted one of the expanded text."""
    from retrieval import vocab
    from retrieval.service import Service

    q = "公司连续三个月拖欠工资，我能不能辞职并要补偿？"
    assert vocab.expand_text(q) != q
    emb = OnePass()
    cfg = replace(FAKE_CONFIG, expand_dense=True)
    Service.load(tiny_kb_dir, embedder=emb, config=cfg).search(q, k=5)
    assert emb.log == [("base", (q,)), ("articles", (vocab.expand_text(q),))]
