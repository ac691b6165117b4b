"""A loaded knowledge base: records, indexes, lookups and search."""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ingest.names import canonical_law
from ingest.records import Article, Case
from retrieval.bm25 import BM25Index
from retrieval.dense import DenseIndex
from retrieval.embedder import Embedder, load_embedder
from retrieval.errors import KBError
from retrieval.hits import Filters, Hit, Notice, SearchResult
from retrieval.manifest import MANIFEST, check_model, read_manifest
from retrieval.search import SearchConfig, Searcher
from retrieval.tokenizer import JiebaTokenizer
from retrieval.units import Unit

log = logging.getLogger(__name__)

_FILES = (
    "articles.jsonl",
    "cases.jsonl",
    "article_units.jsonl",
    "case_units.jsonl",
    "articles.faiss",
    "cases.faiss",
    "bm25_articles",
    "bm25_cases",
    "tokenizer",
)


@dataclass(frozen=True)
class LawInfo:
    """One law (all its versions) as the UI lists it."""

    law: str
    law_title: str
    level: str
    status: str
    version: str  # the version shown (the current one when there is one)
    versions: tuple[str, ...]
    articles: int  # articles of the shown version
    current: bool


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def resolve_index(kb_dir: str | Path) -> Path:
    """``kb_dir/index`` (or ``kb_dir`` itself when it is an index folder)."""
    kb_dir = Path(kb_dir)
    if (kb_dir / MANIFEST).exists():
        return kb_dir
    idx = kb_dir / "index"
    if not (idx / MANIFEST).exists() and (kb_dir / "index.old" / MANIFEST).exists():
        return kb_dir / "index.old"  # a swap was interrupted between its two renames
    return idx


def _one_blas_thread() -> None:
    """Score with one BLAS thread: a query's matrix-vector product takes a few ms on one
    core, while OpenBLAS's spinning workers slowed the query encoder's threads
    (national knowledge base: 60 ms per question instead of 97 ms with two of each)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


STALE_AFTER_DAYS = 365
"""Statute data older than this (newest 公布日期) gets a warning that newer law may exist."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

SAME = 0.5
"""Bigram similarity at or above which two article texts are taken as the same provision."""


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character bigrams of two texts (0..1)."""
    ga = {a[i : i + 2] for i in range(len(a) - 1)}
    gb = {b[i : i + 2] for i in range(len(b) - 1)}
    return len(ga & gb) / len(ga | gb) if ga or gb else 1.0


def successor(old: Article, candidates: Sequence[Article]) -> Article | None:
    """The candidate whose text is the same provision as ``old``'s (most similar, and
    at least ``SAME``), or None."""
    best = max(candidates, key=lambda a: text_similarity(old.text, a.text), default=None)
    if best is None or text_similarity(old.text, best.text) < SAME:
        return None
    return best


class KnowledgeBase:
    """Articles, cases and their indexes, loaded from an index folder built by build_kb."""

    def __init__(self, folder: Path, manifest: dict[str, Any], embedder: Embedder) -> None:
        self.folder = folder
        self.manifest = manifest
        self.embedder = embedder
        art_list = [Article.from_dict(d) for d in _jsonl(folder / "articles.jsonl")]
        self.articles: dict[str, Article] = {a.id: a for a in art_list}
        self.article_ids: list[str] = [a.id for a in art_list]
        self.article_index: dict[str, int] = {a: i for i, a in enumerate(self.article_ids)}
        case_list = [Case.from_dict(d) for d in _jsonl(folder / "cases.jsonl")]
        self.cases: dict[str, Case] = {c.id: c for c in case_list}
        self.case_ids: list[str] = [c.id for c in case_list]
        self.case_index: dict[str, int] = {c: i for i, c in enumerate(self.case_ids)}
        self.article_units = [Unit.from_dict(d) for d in _jsonl(folder / "article_units.jsonl")]
        self.case_units = [Unit.from_dict(d) for d in _jsonl(folder / "case_units.jsonl")]
        self.a_parent = np.array(
            [self.article_index[u.parent] for u in self.article_units], np.int64
        )
        self.c_parent = np.array([self.case_index[u.parent] for u in self.case_units], np.int64)
        self.a_dense = DenseIndex.load(folder / "articles.faiss")
        self.c_dense = DenseIndex.load(folder / "cases.faiss")
        self.a_bm25 = BM25Index.load(folder / "bm25_articles", len(self.article_units))
        self.c_bm25 = BM25Index.load(folder / "bm25_cases", len(self.case_units))
        self.tokenizer = JiebaTokenizer.load(folder / "tokenizer")
        if self.a_dense.size != len(self.article_units) or self.c_dense.size != len(
            self.case_units
        ):
            raise KBError(f"索引 {folder} 的向量数与记录数不符", "重新运行 fengqiao build")
        self._by_law: dict[tuple[str, str], list[Article]] = {}
        for a in art_list:
            self._by_law.setdefault((a.law, a.version if not a.current else ""), []).append(a)
        self._key: dict[tuple[str, str], Article] = {
            (a.law, a.key): a for a in art_list if a.current
        }
        self._citing: dict[str, list[Case]] = {}
        for c in case_list:
            for aid in dict.fromkeys(c.cited_ids):
                self._citing.setdefault(aid, []).append(c)
        self._terms: dict[str, tuple[str, ...]] = {}
        self._searcher = Searcher(self)
        self._masks: dict[Filters, np.ndarray] = {}
        self._cmasks: dict[Filters, np.ndarray] = {}
        self.tokenizer("预热")  # load jieba's dictionary now, not in the first query
        _one_blas_thread()

    # ---- loading ---------------------------------------------------------------

    @classmethod
    def load(cls, kb_dir: str | Path, *, embedder: Embedder | None = None) -> KnowledgeBase:
        """Load ``kb_dir/index``; KBError (Chinese message + hint) when missing or mismatched."""
        folder = resolve_index(kb_dir)
        manifest = read_manifest(folder)
        missing = [f for f in _FILES if not (folder / f).exists()]
        if missing:
            raise KBError(
                f"索引 {folder} 不完整，缺少 {', '.join(missing)}", "重新运行 fengqiao build"
            )
        if embedder is None:
            embedder = load_embedder(manifest.get("model", {}).get("name"))
        check_model(folder, manifest, embedder.name, embedder.key, embedder.dim)
        return cls(folder, manifest, embedder)

    # ---- search ----------------------------------------------------------------

    def search(
        self,
        question: str,
        *,
        k: int = 10,
        k_cases: int = 5,
        filters: Filters | None = None,
        config: SearchConfig | None = None,
    ) -> SearchResult:
        """Ranked articles (with Why) and similar cases for ``question``."""
        return self._searcher.search(question, k=k, k_cases=k_cases, filters=filters, config=config)

    def search_cases(
        self, question: str, *, k: int = 5, filters: Filters | None = None
    ) -> list[Hit]:
        """Similar cases, one hit per case, with the section that matched."""
        return self._searcher.search_cases(question, k=k, filters=filters)

    def article_mask(self, flt: Filters) -> np.ndarray:
        flt = Filters(
            laws=flt.laws, levels=flt.levels, statuses=flt.statuses, current_only=flt.current_only
        )
        if flt not in self._masks:
            laws = {canonical_law(x) for x in flt.laws}
            self._masks[flt] = np.array(
                [
                    (not flt.current_only or a.current)
                    and (not flt.statuses or a.status in flt.statuses)
                    and (not laws or a.law in laws)
                    and (not flt.levels or a.level in flt.levels)
                    for a in (self.articles[i] for i in self.article_ids)
                ],
                bool,
            )
        return self._masks[flt]

    def case_mask(self, flt: Filters) -> np.ndarray:
        key = Filters(
            dispute_types=flt.dispute_types,
            case_kinds=flt.case_kinds,
            date_from=flt.date_from,
            date_to=flt.date_to,
            exclude_case_ids=flt.exclude_case_ids,
        )
        if key not in self._cmasks:
            excl = set(flt.exclude_case_ids)
            if len(self._cmasks) > 64:  # leave-one-out makes one mask per query
                self._cmasks.clear()
            self._cmasks[key] = np.array(
                [
                    c.id not in excl
                    and (not flt.dispute_types or c.dispute_type in flt.dispute_types)
                    and (not flt.case_kinds or c.kind in flt.case_kinds)
                    and (not flt.date_from or (bool(c.date) and c.date >= flt.date_from))
                    and (
                        not flt.date_to
                        or (bool(c.date) and c.date[: len(flt.date_to)] <= flt.date_to)
                    )
                    for c in (self.cases[i] for i in self.case_ids)
                ],
                bool,
            )
        return self._cmasks[key]

    def article_terms(self, article_id: str) -> tuple[str, ...]:
        """Keyword tokens of an article (cached), for Why.matched_terms."""
        if article_id not in self._terms:
            a = self.articles[article_id]
            self._terms[article_id] = tuple(dict.fromkeys(self.tokenizer(a.text)))
        return self._terms[article_id]

    # ---- records -----------------------------------------------------------------

    def article(self, article_id: str) -> Article | None:
        return self.articles.get(article_id)

    def case(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def lookup_key(self, law: str, key: str) -> Article | None:
        return self._key.get((canonical_law(law), key))

    def lookup(self, law: str, article: str, version: str = "") -> Article | None:
        """Article ``article`` ("1079", "133之一", "第一千零七十九条") of ``law`` (any alias)."""
        from ingest.names import parse_label

        key = article
        if article.startswith("第"):
            parsed = parse_label(article)
            if parsed:
                key = f"{parsed[0]}{parsed[1]}"
        name = canonical_law(law)
        if not version:
            return self._key.get((name, key))
        for a in self._by_law.get((name, version), []):
            if a.key == key:
                return a
        return None

    def renumbered(self, law: str, key: str) -> list[tuple[Article, Article | None]]:
        """Older versions whose article ``key`` said something else than the current one.

        Each pair is (the older version's article with this number, the current article
        its text now sits in, or None when no current article is close enough). Empty
        when the knowledge base holds no older version or the number kept its text.
        Texts are compared by character bigrams: a renumbered article keeps most of
        its wording, a different article shares little.
        """
        name = canonical_law(law)
        now = self._key.get((name, key))
        out: list[tuple[Article, Article | None]] = []
        for version, arts in self._by_law.items():
            if version[0] != name or not version[1]:
                continue
            old = next((a for a in arts if a.key == key), None)
            if old is None or (now is not None and text_similarity(old.text, now.text) >= SAME):
                continue
            out.append((old, successor(old, self._by_law.get((name, ""), []))))
        return sorted(out, key=lambda p: p[0].version, reverse=True)

    @lru_cache(maxsize=1)  # noqa: B019 - one KnowledgeBase per process
    def law_names(self) -> tuple[str, ...]:
        return tuple(sorted({a.law for a in self.articles.values()}))

    def laws(self) -> list[LawInfo]:
        by: dict[str, list[Article]] = {}
        for a in self.articles.values():
            by.setdefault(a.law, []).append(a)
        out = []
        for law, arts in sorted(by.items()):
            versions = tuple(sorted({a.version for a in arts}, reverse=True))
            cur = [a for a in arts if a.current]
            shown = cur or [a for a in arts if a.version == versions[0]]
            a0 = shown[0]
            out.append(
                LawInfo(
                    law,
                    a0.law_title,
                    a0.level,
                    a0.status,
                    a0.version,
                    versions,
                    len(shown),
                    bool(cur),
                )
            )
        return out

    def law_articles(self, law: str, version: str = "") -> list[Article]:
        """Articles of ``law`` in document order (current version by default)."""
        return list(self._by_law.get((canonical_law(law), version), []))

    def _siblings(self, article_id: str) -> list[Article]:
        a = self.articles[article_id]
        return self._by_law.get((a.law, "" if a.current else a.version), [])

    def neighbours(self, article_id: str, n: int = 2) -> list[Article]:
        """Up to ``n`` articles before and after, in document order (the article itself included)."""
        sib = self._siblings(article_id)
        ids = [a.id for a in sib]
        if article_id not in ids:
            return []
        i = ids.index(article_id)
        return sib[max(0, i - n) : i + n + 1]

    def chapter(self, article_id: str) -> list[Article]:
        """All articles sharing the article's 编/章/节 path."""
        a = self.articles[article_id]
        return [b for b in self._siblings(article_id) if b.path == a.path]

    def cases_citing(self, article_id: str) -> list[Case]:
        return list(self._citing.get(article_id, []))

    @cached_property
    def data_as_of(self) -> str:
        """The newest 公布日期 of any statute text in the knowledge base (YYYY-MM-DD, or "").

        Validity (现行有效, 已修改 …) is what the data said on that day: laws passed or
        revised later are not in the knowledge base until newer texts are imported.
        """
        dates = (a.publish for a in self.articles.values() if _ISO_DATE.fullmatch(a.publish))
        return max(dates, default="")

    def data_age_days(self, today: datetime.date | None = None) -> int | None:
        """Days from ``data_as_of`` to ``today`` (None when no dated text is held)."""
        if not self.data_as_of:
            return None
        as_of = datetime.date.fromisoformat(self.data_as_of)
        return ((today or datetime.date.today()) - as_of).days

    def freshness_notice(self, today: datetime.date | None = None) -> Notice | None:
        """What the validity shown is based on; a warning once the data is over a year old."""
        age = self.data_age_days(today)
        if age is None:
            return None
        stale = age > STALE_AFTER_DAYS
        text = (
            f"条文和效力状态以知识库数据为准：收录的法规最新公布于 {self.data_as_of}"
            + (f"（距今 {age} 天）" if stale else "")
            + "，此后公布或修订的法律法规未收录。"
        )
        if not stale:
            return Notice("info", text)
        hint = "建议：联网时运行 fengqiao fetch 更新法规，或在“知识库”页导入新文本。"
        return Notice("warning", text + hint)

    def stats(self) -> dict[str, Any]:
        cur = [a for a in self.articles.values() if a.current]
        return {
            "laws": len({a.law for a in cur}),
            "articles": len(cur),
            "articles_all_versions": len(self.articles),
            "cases": len(self.cases),
            "by_level": dict(Counter(a.level for a in cur)),
            "by_status": dict(Counter(a.status for a in cur)),
            "cases_by_kind": dict(Counter(c.kind for c in self.cases.values())),
            "cases_by_type": dict(Counter(c.dispute_type for c in self.cases.values())),
            "model": self.manifest.get("model", {}).get("name", ""),
            "built": self.manifest.get("created", ""),
            "units": self.manifest.get("corpus", {}).get("units", 0),
            "data_as_of": self.data_as_of,
        }
