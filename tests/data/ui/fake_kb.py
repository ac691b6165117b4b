"""A tiny in-memory KnowledgeService (ui/protocols.py) for page and export tests: exact keyword search."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ingest.cases.link import ArticleIndex
from ingest.names import article_label, canonical_law, repealed
from ingest.records import Article, Case, Citation, article_id
from retrieval.admin import AddReport, Upload
from retrieval.answer import extract_answer, question_terms, term_spans
from retrieval.catalogue import Catalogue, LawInfo
from retrieval.hits import ArticleHit, CaseHit, Filters, Hit, Notice, SearchResult, Why
from retrieval.kb_folder import MAX_FILE_MB, KBFolder
from retrieval.precedents import PrecedentChanges, Precedents, PrecedentStore
from retrieval.service import (
    Answered,
    ArticlePage,
    CitedArticle,
    KBStats,
    Matched,
    OpenedCitation,
    make_article_page,
    open_citation,
)

TITLE = "中华人民共和国民法典"
PATH_DIVORCE = ("第五编 婚姻家庭", "第四章 离婚")
PATH_NEIGHBOUR = ("第二编 物权", "第七章 相邻关系")


def _art(law: str, title: str, number: int, text: str, path: tuple[str, ...], **kw) -> Article:
    old = not kw.get("current", True)
    return Article(
        id=article_id(law, number, version=str(kw.get("version", "")) if old else ""),
        law=law,
        law_title=title,
        number=number,
        suffix="",
        label=article_label(number),
        text=text,
        path=path,
        level=kw.pop("level", "法律"),
        valid_from=kw.pop("valid_from", "2021-01-01"),
        publish=kw.pop("publish", "2020-05-28"),
        **kw,
    )


ARTICLES = [
    _art(
        "民法典",
        TITLE,
        1076,
        "夫妻双方自愿离婚的，应当签订书面离婚协议，并亲自到婚姻登记机关申请离婚登记。\n离婚协议应当载明双方自愿离婚的意思表示和对子女抚养、财产以及债务处理等事项协商一致的意见。",
        PATH_DIVORCE,
    ),
    _art(
        "民法典",
        TITLE,
        1078,
        "婚姻登记机关查明双方确实是自愿离婚，并已经对子女抚养、财产以及债务处理等事项协商一致的，予以登记，发给离婚证。",
        PATH_DIVORCE,
    ),
    _art(
        "民法典",
        TITLE,
        1079,
        "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。\n人民法院审理离婚案件，应当进行调解；如果感情确已破裂，调解无效的，应当准予离婚。\n有下列情形之一，调解无效的，应当准予离婚：\n（四）因感情不和分居满二年；",
        PATH_DIVORCE,
    ),
    _art(
        "民法典",
        TITLE,
        1080,
        "完成离婚登记，或者离婚判决书、调解书生效，即解除婚姻关系。",
        PATH_DIVORCE,
    ),
    _art(
        "民法典",
        TITLE,
        294,
        "不动产权利人不得违反国家规定弃置固体废物，排放大气污染物、水污染物、土壤污染物、噪声、光辐射、电磁辐射等有害物质。",
        PATH_NEIGHBOUR,
    ),
    _art(
        "民法典",
        TITLE,
        288,
        "不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，正确处理相邻关系。",
        PATH_NEIGHBOUR,
    ),
    _art(
        "人民调解法",
        "中华人民共和国人民调解法",
        4,
        "人民调解委员会调解民间纠纷，不收取任何费用。",
        ("第一章 总则",),
        valid_from="2011-01-01",
        publish="2010-08-28",
    ),
    _art(
        "婚姻法",
        "中华人民共和国婚姻法",
        32,
        "男女一方要求离婚的，可由有关部门进行调解或直接向人民法院提出离婚诉讼。",
        ("第四章 离婚",),
        status="已废止",
        valid_from="1981-01-01",
        publish="1980-09-10",
        version="2001-04-28",
        current=False,
    ),
]

CASES = [
    Case(
        id="case-divorce",
        kind="典型案例",
        title="王某诉李某离婚纠纷案",
        dispute_type="婚姻家庭",
        sections=(
            ("基本案情", "王某与李某分居满二年，王某要求离婚，李某不同意离婚。"),
            ("争议焦点", "分居满二年一方不同意离婚的，能否准予离婚。"),
            ("裁判结果", "法院判决准予离婚。婚生子由王某抚养。"),
        ),
        cited=(
            Citation("《民法典》第一千零七十九条", "民法典", "1079", resolved_id="民法典:1079"),
        ),
        date="2021-05-01",
        region="浙江",
    ),
    Case(
        id="case-noise",
        kind="调解案例",
        title="张某与邻居赵某噪声纠纷案",
        dispute_type="邻里关系",
        sections=(
            ("基本案情", "赵某装修房屋，晚上施工，噪声很大。"),
            ("调解结果", "赵某同意晚上八点后停止施工，并向张某赔礼道歉。"),
        ),
        cited=(Citation("《民法典》第二百九十四条", "民法典", "294", resolved_id="民法典:294"),),
        date="2022",
        region="上海",
    ),
]


def _terms(q: str) -> set[str]:
    return {q[i : i + 2] for i in range(len(q) - 1)}


@dataclasses.dataclass
class FakeAdmin:
    """Implements ``ui.protocols.KBAdmin``: keeps what was uploaded."""

    service: FakeService
    limit_mb: int = MAX_FILE_MB

    def add(self, uploads: Sequence[Upload], *, force: bool = False) -> AddReport:
        self.service.added.extend(uploads)
        return AddReport()

    def dropin_names(self) -> list[str]:
        return (
            [p.name for p in KBFolder(self.service.kb_dir).dropin_files()]
            if self.service.kb_dir
            else []
        )


class FakeService:
    """Implements ``ui.protocols.KnowledgeService`` over the records above."""

    version = "fake-1"

    def __init__(self, kb_dir: Path | None = None) -> None:
        self.articles = {a.id: a for a in ARTICLES}
        self.cases = {c.id: c for c in CASES}
        self.catalogue = Catalogue(ARTICLES)
        self.added: list[Upload] = []
        self.kb_dir = kb_dir
        self._precedents: Precedents | None = None

    # ---- 调解案例: the real store (SQLite in a temporary folder unless given one) ----

    @property
    def precedents(self) -> Precedents:
        if self._precedents is None:
            folder = self.kb_dir or Path(tempfile.mkdtemp(prefix="fake-kb-"))
            store = PrecedentStore.in_kb(folder, ArticleIndex(ARTICLES))
            self._precedents = Precedents(store, self._apply, self.cases.get)
            self._precedents.sync()
        return self._precedents

    def _apply(self, changes: PrecedentChanges) -> None:
        """Recorded cases into ``self.cases``, as ``retrieval.precedents.joiner`` does."""
        for gone in changes.deleted:
            self.cases.pop(gone, None)
        self.cases.update((c.id, c) for c in changes.upserted)

    # ---- 知识库: uploads are kept, nothing is built ----

    @property
    def admin(self) -> FakeAdmin:
        return FakeAdmin(self)

    def article_page(self, article_id: str) -> ArticlePage | None:
        found = self.articles.get(article_id)
        if found is None:
            return None
        return make_article_page(self.catalogue, found, self.cases_citing(article_id))

    def open_citation(self, law: str, article: str, version: str = "") -> OpenedCitation:
        return open_citation(self.catalogue, self.cases_citing, law, article, version)

    def matched_words(self, question: str, text: str, limit: int = 6) -> Matched:
        """Question bigrams found in the text (the real service matches jieba words)."""
        return Matched(tuple(t for t in question_terms(question) if t in text)[:limit])

    def highlight_spans(self, text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
        return term_spans(text, terms)

    def ask(
        self, question: str, *, filters: Filters | None = None, k: int = 10, k_cases: int = 5
    ) -> Answered:
        result = self.search(question, k=k, k_cases=k_cases, filters=filters)
        answer = extract_answer(question, result.articles, result.cases, cited=result.cited)
        cited = tuple(CitedArticle(c, self.articles.get(c.resolved_id)) for c in result.cited)
        return Answered(result, answer, cited, 1.0)

    def freshness_notice(self) -> Notice | None:
        return Notice("info", "条文和效力状态以知识库数据为准：收录的法规最新公布于 2020-05-28。")

    def guidance_dropped(self) -> tuple[str, ...]:
        return ()

    def stale_as_of(self) -> str:
        return ""

    def article(self, article_id: str) -> Article | None:
        return self.articles.get(article_id)

    def case(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def lookup(self, law: str, article: str, version: str = "") -> Article | None:
        return self.articles.get(f"{canonical_law(law)}:{article}")

    def laws(self) -> list[LawInfo]:
        out = {}
        for a in self.articles.values():
            n = sum(1 for b in self.articles.values() if b.law == a.law)
            out[a.law] = LawInfo(a.law, a.law_title, a.level, a.status, "", (), n, a.current)
        return list(out.values())

    def law_articles(self, law: str, version: str = "") -> list[Article]:
        return sorted((a for a in self.articles.values() if a.law == law), key=lambda a: a.number)

    def neighbours(self, article_id: str, n: int = 2) -> list[Article]:
        a = self.articles[article_id]
        arts = self.law_articles(a.law)
        i = arts.index(a)
        return arts[max(0, i - n) : i] + arts[i + 1 : i + 1 + n]

    def chapter(self, article_id: str) -> list[Article]:
        a = self.articles[article_id]
        return [b for b in self.law_articles(a.law) if b.path == a.path]

    def cases_citing(self, article_id: str) -> list[Case]:
        return [c for c in self.cases.values() if article_id in c.cited_ids]

    def stats(self) -> KBStats:
        return KBStats(
            laws=len(self.laws()),
            articles=len(self.articles),
            articles_all_versions=len(self.articles),
            cases=len(self.cases),
            units=len(self.articles) + len(self.cases),
            model="fake",
            built="2026-11-26T12:00:00+00:00",
            data_as_of="2020-05-28",
        )

    def _allowed(self, a: Article, f: Filters) -> bool:
        return (
            (not f.laws or a.law in f.laws)
            and (not f.levels or a.level in f.levels)
            and (not f.statuses or a.status in f.statuses)
        )

    def search_cases(
        self, question: str, *, k: int = 5, filters: Filters | None = None
    ) -> list[CaseHit]:
        f = filters or Filters()
        terms = _terms(question)
        scored = []
        for c in self.cases.values():
            if f.dispute_types and c.dispute_type not in f.dispute_types:
                continue
            if f.case_kinds and c.kind not in f.case_kinds:
                continue
            found = tuple(sorted(t for t in terms if t in c.text))
            if found:
                scored.append((len(found), c, found))
        scored.sort(key=lambda x: -x[0])
        return [
            Hit(c, float(s), r, Why(("keyword",), found, keyword_rank=r))
            for r, (s, c, found) in enumerate(scored[:k], 1)
        ]

    def search(
        self, question: str, *, k: int = 10, k_cases: int = 5, filters: Filters | None = None
    ) -> SearchResult:
        f = filters or Filters()
        notices: list[Notice] = []
        for law in ("民法典", "婚姻法", "人民调解法"):
            for num, a in ((a.number, a) for a in self.articles.values() if a.law == law):
                if question.replace(" ", "") in (f"{law}第{num}条", f"{law}{a.label}"):
                    cit = Citation(
                        question, law, str(num), resolved_id=a.id, repealed=bool(repealed(law))
                    )
                    if cit.repealed:
                        notices.append(
                            Notice(
                                "warning",
                                f"《{law}》已于2021-01-01废止，现行规定见《民法典》。",
                                cit,
                                ("民法典:1079",),
                            )
                        )
                    return SearchResult(
                        question, [Hit(a, 1.0, 1, Why(("citation",)))], [], notices, [cit]
                    )
        terms = _terms(question)
        scored = []
        for a in self.articles.values():
            if not self._allowed(a, f):
                continue
            found = tuple(sorted(t for t in terms if t in a.text))
            if found:
                scored.append((len(found), a, found))
        scored.sort(key=lambda x: (-x[0], x[1].number))
        hits: list[ArticleHit] = [
            Hit(a, float(s), r, Why(("keyword",), found, keyword_rank=r))
            for r, (s, a, found) in enumerate(scored[:k], 1)
        ]
        return SearchResult(
            question, hits, self.search_cases(question, k=k_cases, filters=f), notices
        )
