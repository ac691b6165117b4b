"""Retrieval evaluation on query sets in the shared format: Recall/Hit@k, MRR@10, nDCG@10."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from tqdm.auto import tqdm

from ingest.names import canonical_law
from retrieval.config import CONFIGS, DEFAULT_CONFIG, SearchConfig
from retrieval.errors import EvalError
from retrieval.hits import Filters

if TYPE_CHECKING:
    from retrieval.service import Service

Leave = Literal["source", "one", "none"]
LEAVE_MODES: tuple[str, ...] = ("source", "one", "none")

KS = (1, 5, 10, 20, 100)
METRICS = (
    "R@1",
    "R@5",
    "R@10",
    "R@20",
    "R@100",
    "Hit@1",
    "Hit@5",
    "Hit@10",
    "Hit@20",
    "Hit@100",
    "MRR@10",
    "nDCG@10",
)


@dataclass(frozen=True)
class Query:
    id: str
    query: str
    gold: tuple[str, ...]  # article ids (current version): 民法典:1079
    tiers: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """The query set a query belongs to: its id without the running number."""
        return query_source(self.id)


def query_source(query_id: str) -> str:
    """``lawbench-3-8-0012`` → ``lawbench-3-8`` (the same key as a case's source)."""
    return re.sub(r"-\d+$", "", query_id)


# Query sets labelled by one process count as one source: the lawyer-llama consultations
# and the zixun questions got their articles from the same data set's retriever, so a
# zixun question helped by lawyer-llama precedents would be helped by its own labeller.
SOURCE_FAMILIES: tuple[tuple[str, ...], ...] = (("lawyer-llama", "zixun"),)


def source_family(source: str) -> tuple[str, ...]:
    """Every source left out together with ``source`` (itself first)."""
    for family in SOURCE_FAMILIES:
        if source in family:
            return (source, *(s for s in family if s != source))
    return (source,)


def leave_out(query: Query, leave: Leave) -> Filters:
    """Case filters for a query: ``source`` hides every case and labelled question of its
    query set (and of the sets labelled the same way, ``SOURCE_FAMILIES``), ``one`` only
    the case with its own id, ``none`` nothing."""
    if leave == "source":
        return Filters(exclude_case_sources=source_family(query.source))
    if leave == "one":
        return Filters(exclude_case_ids=(query.id,))
    return Filters()


def read_queries(path: Path, tier: str | None = None) -> list[Query]:
    """Queries of ``path`` (jsonl); with ``tier``, only those whose gold is all in that tier."""
    path = Path(path)
    if not path.exists():
        raise EvalError(
            f"找不到查询文件 {path}", "检查 --queries 路径（格式见 shared/eval/README.md）"
        )
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            gold = tuple(
                dict.fromkeys(f"{canonical_law(g['law'])}:{g['article']}" for g in d["gold"])
            )
            q = Query(d["id"], d["query"], gold, tuple(d.get("tiers", ())))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise EvalError(
                f"{path}:{n} 不是合法的查询行（{e}）", "每行一个 JSON：id、query、gold、tiers"
            ) from e
        if tier is None or tier in q.tiers:
            out.append(q)
    return out


def query_metrics(ranking: Sequence[str], gold: Iterable[str]) -> dict[str, float]:
    """Metrics of one ranking (article ids, best first, no duplicates) against its gold set."""
    g = set(gold)
    if not g:
        return dict.fromkeys(METRICS, 0.0)
    m: dict[str, float] = {}
    for k in KS:
        found = len(g.intersection(ranking[:k]))
        m[f"R@{k}"] = found / len(g)
        m[f"Hit@{k}"] = float(found > 0)
    first = next((i for i, d in enumerate(ranking[:10], 1) if d in g), 0)
    m["MRR@10"] = 1.0 / first if first else 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, d in enumerate(ranking[:10], 1) if d in g)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(g), 10) + 1))
    m["nDCG@10"] = dcg / idcg
    return m


def mean_metrics(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return dict.fromkeys(METRICS, 0.0)
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in METRICS}


@dataclass
class EvalResult:
    """Mean metrics per configuration, plus per-query rows for analysis."""

    queries: int
    tier: str | None
    kb: str
    model: str
    default: str
    by_config: dict[str, dict[str, float]]
    per_query: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seconds: float = 0.0
    leave: Leave = "source"
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    query_key: str = ""
    """The article-side question encoder (the base model's key plus any query adapter):
    figures are held out only with an adapter trained without the queries' family."""
    adapter_saw: tuple[str, ...] = ()
    """Sources of these queries whose questions trained the query adapter: non-empty, the
    figures are in-sample for the adapter (evaluate with ``FENGQIAO_MODEL`` set to an
    adapter trained without them, ``bench/adapt_e5.py ship --hold-out``)."""

    @property
    def metrics(self) -> dict[str, float]:
        return self.by_config[self.default]

    def to_json(self) -> dict[str, Any]:
        """The ``fengqiao eval --json`` object (INTERFACES.md)."""
        return {
            "queries": self.queries,
            "tier": self.tier,
            "kb": self.kb,
            "metrics": self.metrics,
            "config": {
                "retriever": self.default,
                "model": self.model,
                "query_key": self.query_key,
                "adapter_saw": list(self.adapter_saw),
                "leave": self.leave,
                "settings": self.settings.get(self.default, {}),
            },
            "by_config": self.by_config,
        }


class _MemoEmbedder:
    """Wraps an embedder so each query is encoded once across configurations."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.key, self.dim = inner.name, inner.key, inner.dim
        self._memo: dict[tuple[str, str], np.ndarray] = {}

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._memoised("cases", texts, self.inner.encode_queries)

    def encode_article_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._memoised("articles", texts, self.inner.encode_article_queries)

    def encode_question_pair(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Both sides at once: one pass of the inner encoder's pair where it has one."""
        missing = [t for t in dict.fromkeys(texts) if not self._has_pair(t)]
        if missing:
            pair = getattr(self.inner, "encode_question_pair", None)
            if pair is not None:
                base, adapted = pair(missing)
            else:
                base = self.inner.encode_queries(missing)
                adapted = self.inner.encode_article_queries(missing)
            for t, b, a in zip(missing, base, adapted, strict=True):
                self._memo["cases", t], self._memo["articles", t] = b, a
        return (
            np.stack([self._memo["cases", t] for t in texts]),
            np.stack([self._memo["articles", t] for t in texts]),
        )

    def _has_pair(self, text: str) -> bool:
        return ("cases", text) in self._memo and ("articles", text) in self._memo

    def _memoised(
        self, side: str, texts: Sequence[str], encode: Callable[[Sequence[str]], np.ndarray]
    ) -> np.ndarray:
        missing = [t for t in texts if (side, t) not in self._memo]
        if missing:
            for t, v in zip(missing, encode(missing), strict=True):
                self._memo[side, t] = v
        return np.stack([self._memo[side, t] for t in texts])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _adapter_trained_on(embedder: Any) -> tuple[str, ...]:
    """Query sources that trained the embedder's article-side adapter (none when it has none)."""
    if getattr(embedder, "query_key", "") == getattr(embedder, "key", ""):
        return ()
    return tuple(getattr(embedder, "adapter_trained_on", ()))


def evaluate(
    service: Service,
    queries_path: Path,
    tier: str | None = "curated",
    configs: Sequence[SearchConfig | str] | None = None,
    *,
    leave: Leave = "source",
    limit: int | None = None,
    show_progress: bool = False,
) -> EvalResult:
    """Evaluate a loaded knowledge base on a query file, per retriever configuration.

    Args:
        tier: score only queries whose gold articles are all in this tier (None: all).
        configs: configurations or names from ``config.CONFIGS``; default all of them,
            ``hybrid`` (or the first one listed) reported as ``metrics``.
        leave: which cases a query may not use (see :func:`leave_out`); ``source`` by
            default, so a question never profits from near-twins of its own set.
        limit: evaluate only the first ``limit`` queries (quick checks).
    """
    if leave not in LEAVE_MODES:
        raise EvalError(f"未知的 --leave 取值 {leave}", f"使用 {'、'.join(LEAVE_MODES)} 之一")
    t0 = time.perf_counter()
    cfgs = [CONFIGS[c] if isinstance(c, str) else c for c in (configs or list(CONFIGS.values()))]
    qs = read_queries(queries_path, tier)[:limit]
    searcher = service.searcher
    real = searcher.embedder
    searcher.embedder = _MemoEmbedder(real)  # type: ignore[assignment]
    rows: dict[str, list[dict[str, Any]]] = {c.name: [] for c in cfgs}
    try:
        bar = tqdm(qs, desc="评测", unit="问", disable=not show_progress)
        for q in bar:
            flt = leave_out(q, leave)
            for c in cfgs:
                res = searcher.search(q.query, k=100, k_cases=0, filters=flt, config=c)
                ranking = [h.record.id for h in res.articles]
                m = query_metrics(ranking, q.gold)
                rows[c.name].append({"id": q.id, **m, "top": ranking[:10], "gold": list(q.gold)})
    finally:
        searcher.embedder = real
    names = [c.name for c in cfgs]
    default = DEFAULT_CONFIG.name if DEFAULT_CONFIG.name in names else names[0]
    return EvalResult(
        queries=len(qs),
        tier=tier,
        kb=str(service.kb_dir or ""),
        model=str(service.manifest.get("model", {}).get("name", "")),
        default=default,
        by_config={n: mean_metrics(rows[n]) for n in names},
        per_query=rows,
        seconds=round(time.perf_counter() - t0, 1),
        leave=leave,
        settings={c.name: asdict(c) for c in cfgs},
        query_key=str(getattr(real, "query_key", getattr(real, "key", ""))),
        adapter_saw=tuple(sorted({q.source for q in qs} & set(_adapter_trained_on(real)))),
    )
