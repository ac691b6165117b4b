"""Leave-source-out table: what each retrieval lever gives on questions of an unseen source.

usage: python bench/generalise.py [--kb KB] [--cache DIR] [--finetuned DIR ...] [--limit N] [--write]

Every figure is leave-source-out (a query never sees a case of its own set, the
semantics of ``fengqiao eval --leave source``), curated tier, on lawbench-3-8 (369),
lawyer-llama (1000, silver), lawbench-3-2 (83) and the everyday mediation questions
(tests/data/eval/everyday.jsonl, never used to choose anything). Levers that learn
(precedent settings, adapter, vocabulary, ranker, fine-tuned encoder) learn from the
other sources only: grouped by source, the held-out one is never seen. Seeded and
deterministic; ``--write`` puts the tables into docs/quality.md.

Every ranking is the shipped ``retrieval.search.Searcher``'s: its ``first_stage`` under
the query's leave-source-out filter, then its ``fuse``; a lever swaps in its own keyword
or semantic run before fusing, or re-orders the fused list. No copy of the pipeline.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import rank as R  # noqa: E402
from bench.harness import EVAL, Pool, Q, Scores, case_questions, read_set  # noqa: E402
from retrieval import fusion  # noqa: E402
from retrieval.bm25 import BM25Index  # noqa: E402
from retrieval.config import CONFIGS, SearchConfig  # noqa: E402
from retrieval.evaluate import mean_metrics, query_metrics, source_family  # noqa: E402
from retrieval.hits import Filters  # noqa: E402
from retrieval.search import FirstStage, Searcher, keyword_run  # noqa: E402

DOC = REPO / "docs" / "quality.md"
EVERYDAY = REPO / "tests" / "data" / "eval" / "everyday.jsonl"
DEV = ("lawbench-3-8", "lawyer-llama", "lawbench-3-2")
SETS = (*DEV, "everyday")
COLS = ("R@1", "R@5", "R@10", "R@100", "Hit@1", "MRR@10", "nDCG@10")
SEED = 13

Hidden = tuple[str, ...]  # case sources a query may not use (``Filters.exclude_case_sources``)
Ranking = Callable[[Q, Hidden], list[str]]
# a lever's own per-article scores (one row per ``Pool.articles``), given the allowed cases
Swap = Callable[[Q, Scores, np.ndarray], np.ndarray]


class CachedQueries:
    """The knowledge base's query encoder behind the pool's vector cache, so the shipped
    first stage encodes each question once across runs of the study."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.pool.encode(texts)


class Bench:
    """Queries, their scores over the pool (for the levers), and every ranking made by the
    shipped ``Searcher``: its first stage under the leave-source-out filter, then its
    ``fuse`` (a lever may swap in its own keyword or semantic run before fusing)."""

    def __init__(self, pool: Pool, limit: int = 0) -> None:
        self.pool = pool
        qs: list[Q] = []
        for name in DEV:
            qs += read_set(EVAL / f"{name}.jsonl")[: limit or None]
        qs += case_questions(pool)[: limit or None]  # typical cases: training only
        qs += read_set(EVERYDAY)[: limit or None]
        known = set(pool.article_index)
        self.qs = [q for q in qs if any(g in known for g in q.gold)]
        self.scores = pool.all_scores(self.qs)
        self.searcher: Searcher = pool.kb.searcher  # type: ignore[attr-defined]
        self.searcher.embedder = CachedQueries(pool)  # type: ignore[assignment]
        self._first: dict[tuple, FirstStage] = {}
        self._ok: dict[Hidden, np.ndarray] = {}

    def test(self, source: str) -> list[Q]:
        return [q for q in self.qs if q.source == source and "curated" in q.tiers]

    def train(self, held_out: str) -> list[Q]:
        return [q for q in self.qs if q.source not in (held_out, "everyday")]

    @staticmethod
    def hidden(*sources: str) -> Hidden:
        """The case sources hidden from a query of ``sources`` (``fengqiao eval --leave
        source``: each source with the sets labelled the same way)."""
        return tuple(sorted({f for s in sources for f in source_family(s)}))

    @staticmethod
    def filters(hide: Hidden) -> Filters:
        return Filters(exclude_case_sources=hide)

    def case_ok(self, hide: Hidden) -> np.ndarray:
        """Mask over ``Pool.cases``: the cases the filter of ``hide`` lets a query use."""
        if hide not in self._ok:
            flt = self.filters(hide)
            self._ok[hide] = np.array([flt.allows_case(c) for c in self.pool.cases], bool)
        return self._ok[hide]

    def first(self, q: Q, hide: Hidden, cfg: SearchConfig) -> FirstStage:
        """The shipped first stage for ``q`` (cached), with the runs ``cfg`` leaves out removed."""
        key = (
            q.id,
            hide,
            cfg.expand,
            cfg.expand_dense,
            cfg.expand_weight < 1.0,
            cfg.depth,
            cfg.precedent_cases,
            cfg.case_depth,
            cfg.case_depth_per_hit,
        )
        if key not in self._first:
            every = replace(cfg, keyword=True, semantic=True, precedent=True)
            self._first[key] = self.searcher.first_stage(
                q.text, flt=self.filters(hide), cfg=every, n_cases=cfg.precedent_cases
            )
        first = self._first[key]
        return replace(
            first,
            keyword=first.keyword if cfg.keyword else None,
            expansion=first.expansion if cfg.keyword else None,
            semantic=first.semantic if cfg.semantic else None,
        )

    def run(self, scores: np.ndarray, cfg: SearchConfig, positive: bool) -> dict[str, float]:
        """A lever's per-article scores as a run: the ``cfg.depth`` best allowed articles."""
        good = self.pool.a_ok & np.isfinite(scores) & ((scores > 0) if positive else True)
        idx = np.flatnonzero(good)
        if len(idx) > cfg.depth:
            idx = idx[np.argpartition(-scores[idx], cfg.depth)[: cfg.depth]]
        return {self.pool.articles[i].id: float(scores[i]) for i in idx}

    def fused(
        self,
        q: Q,
        hide: Hidden,
        cfg: SearchConfig,
        *,
        dense_scores: Swap | None = None,
        keyword_scores: Swap | None = None,
    ) -> dict[str, float]:
        """The shipped fusion of ``q``'s first stage, a lever's runs swapped in."""
        first = self.first(q, hide, cfg)
        s, ok = self.scores[q.id], self.case_ok(hide)
        if dense_scores is not None and first.semantic is not None:
            first = replace(first, semantic=self.run(dense_scores(q, s, ok), cfg, False))
        if keyword_scores is not None and first.keyword is not None:
            run = self.run(keyword_scores(q, s, ok), cfg, True)
            first = replace(first, keyword=run, expansion=None)
        return self.searcher.fuse(first, cfg, self.filters(hide))

    def metrics(self, source: str, ranking: Ranking) -> dict[str, float]:
        hide = self.hidden(source)
        return mean_metrics([query_metrics(ranking(q, hide), q.gold) for q in self.test(source)])

    def config(
        self,
        cfg: SearchConfig,
        *,
        dense_scores: Swap | None = None,
        keyword_scores: Swap | None = None,
    ) -> Ranking:
        def f(q: Q, hide: Hidden) -> list[str]:
            fused = self.fused(
                q, hide, cfg, dense_scores=dense_scores, keyword_scores=keyword_scores
            )
            return fusion.ranked(fused)[:100]

        return f


def citing_rows(pool: Pool) -> dict[str, list[int]]:
    """Rows of ``Pool.cases`` citing each article id."""
    out: dict[str, list[int]] = {}
    for i, c in enumerate(pool.cases):
        for a in dict.fromkeys(c.cited_ids):
            out.setdefault(a, []).append(i)
    return out


def candidates(
    b: Bench,
    q: Q,
    hide: Hidden,
    cfg: SearchConfig,
    citing: dict[str, list[int]],
    depth: int = 200,
) -> list[R.Candidate]:
    """The shipped first stage's best ``depth`` articles with their evidence, for the ranker."""
    first = b.first(q, hide, cfg)
    flt = b.filters(hide)
    fused = b.searcher.fuse(first, cfg, flt)
    keyword = keyword_run(first, cfg) or {}
    semantic = first.semantic or {}
    prec = b.searcher.precedent_run(first, cfg, flt)
    near: dict[str, int] = {}
    for h in first.case_hits[: cfg.precedent_cases]:
        if first.case_cos.get(h.record.id, 0.0) > cfg.precedent_floor:
            for a in dict.fromkeys(h.record.cited_ids):
                near[a] = near.get(a, 0) + 1
    ok, s = b.case_ok(hide), b.scores[q.id]
    out = []
    for a in fusion.ranked(fused)[:depth]:
        rows = [r for r in citing.get(a, ()) if ok[r]]
        out.append(
            R.Candidate(
                a,
                fused[a],
                keyword.get(a),
                semantic.get(a),
                prec.get(a, 0.0),
                near.get(a, 0),
                float(s.c_dense[rows].max()) if rows else 0.0,
            )
        )
    return out


def short(m: dict[str, float]) -> str:
    return f"{m['R@10']:.3f} / {m['MRR@10']:.3f} / {m['Hit@1']:.3f}"


def lever_row(label: str, per_set: dict[str, dict[str, float]]) -> str:
    return f"| {label} | " + " | ".join(short(per_set[s]) for s in SETS) + " |"


LEVER_HEAD = (
    "| lever (R@10 / MRR@10 / Hit@1) | lawbench-3-8 (369) | lawyer-llama (1000) "
    "| lawbench-3-2 (83) | everyday (65) |\n|---|---|---|---|---|"
)


# ---- levers ------------------------------------------------------------------------


def precedent_grid(b: Bench) -> tuple[list[str], dict[str, dict[str, float]]]:
    """Precedent trust of lawyer-llama's silver labels × weight × cosine floor; for each
    held-out set the setting best on the other development sets is the one reported."""
    h = CONFIGS["hybrid"]
    grid = list(itertools.product((0.0, 0.25, 0.5), (1.0, 1.5, 2.0), (0.88, 0.90)))
    res = {}
    for tr, w, fl in grid:
        cfg = replace(h, precedent_trust=(("lawyer-llama", tr),), w_precedent=w, precedent_floor=fl)
        res[(tr, w, fl)] = {s: b.metrics(s, b.config(cfg)) for s in SETS}

    def dev_score(key: tuple, held: str) -> float:
        others = [s for s in DEV if s != held]
        return statistics.mean(res[key][s]["R@10"] + res[key][s]["MRR@10"] for s in others)

    chosen = {s: max(grid, key=lambda k, s=s: (dev_score(k, s), k)) for s in SETS}
    notes = [f"{s}: trust {k[0]}, weight {k[1]}, floor {k[2]}" for s, k in chosen.items()]
    return notes, {s: res[chosen[s]][s] for s in SETS} | {
        f"fixed:{k}": res[k] for k in [(0.25, 2.0, 0.88), (0.0, 2.0, 0.88)]
    }


def ridge_adapter(b: Bench, lam: float = 300.0) -> dict[str, Callable[[Q, Scores], np.ndarray]]:
    """A query-side linear map W = argmin ||QW - A||² + λ||W - I||² (closed form), fitted per
    held-out set on (question vector, gold article vector) pairs of the other sources,
    each source weighted equally; article vectors stay as they are."""
    pool = b.pool
    first_unit = np.full(len(pool.articles), -1)
    for u, p in enumerate(pool._a_parent):
        if first_unit[p] < 0:
            first_unit[p] = u
    out = {}
    for held in SETS:
        train = b.train(held)
        n = Counter(q.source for q in train)
        qv, av, w = [], [], []
        for q in train:
            gold = [pool.article_index[a] for a in q.gold if a in pool.article_index]
            for i in gold:
                qv.append(b.scores[q.id].qvec)
                av.append(pool._a_vec[first_unit[i]])
                w.append(1.0 / n[q.source] / len(gold))
        x, y = np.array(qv), np.array(av)
        wt = np.array(w)[:, None] * len(w) / sum(w)
        eye = np.eye(x.shape[1])
        m = np.linalg.solve(x.T @ (wt * x) + lam * eye, x.T @ (wt * y) + lam * eye)

        def dense(q: Q, s: Scores, m: np.ndarray = m) -> np.ndarray:
            v = s.qvec @ m
            v = v / np.linalg.norm(v)
            return pool._per_parent(pool._a_vec @ v, pool._a_parent, len(pool.articles))

        out[held] = dense
    return out


def generality_prior(b: Bench, weight: float) -> Ranking:
    """The hybrid plus a query-independent prior: how often the allowed cases cite an
    article (each source's share summed, so no source dominates; log-scaled to 0..1),
    added as ``weight`` × the query's best score, lifting general provisions."""
    pool = b.pool
    h = CONFIGS["hybrid"]
    memo: dict[bytes, dict[str, float]] = {}

    def prior(ok: np.ndarray) -> dict[str, float]:
        key = ok.tobytes()
        if key not in memo:
            by_source: dict[str, Counter] = {}
            for i in np.flatnonzero(ok):
                counts = by_source.setdefault(pool.case_source[i], Counter())
                counts.update(list(dict.fromkeys(pool.cases[i].cited_ids)))
            raw: Counter = Counter()
            for counts in by_source.values():
                n = sum(counts.values()) or 1
                for a, k in counts.items():
                    raw[a] += k / n
            top = max(raw.values(), default=1.0)
            memo[key] = {a: math.log1p(1000 * v) / math.log1p(1000 * top) for a, v in raw.items()}
        return memo[key]

    def f(q: Q, hide: Hidden) -> list[str]:
        final = b.fused(q, hide, h)
        best = max(final.values(), default=1.0)
        pr = prior(b.case_ok(hide))
        lifted = {a: v + weight * best * pr.get(a, 0.0) for a, v in final.items()}
        return sorted(lifted, key=lambda a: -lifted[a])[:100]

    return f


def doc_expansion(b: Bench) -> Callable[[Q, Scores, np.ndarray], np.ndarray]:
    """BM25 over article text plus the questions of the allowed cases citing the article."""
    pool = b.pool
    base: dict[str, list[str]] = {}
    for u in pool.kb.articles.units:  # type: ignore[attr-defined]
        base.setdefault(u.parent, []).append(u.keywords)
    cache: dict[bytes, BM25Index] = {}

    def index(ok: np.ndarray) -> BM25Index:
        key = np.packbits(ok).tobytes()
        if key not in cache:
            extra: dict[str, list[str]] = {}
            for i in np.flatnonzero(ok):
                c = pool.cases[i]
                for a in dict.fromkeys(c.cited_ids):
                    extra.setdefault(a, []).append((c.facts or c.title)[:300])
            docs = [
                pool.tokenizer(" ".join(base.get(a.id, [a.text]) + extra.get(a.id, [])))
                for a in pool.articles
            ]
            cache[key] = BM25Index().index(docs)
        return cache[key]

    return lambda q, s, ok: index(ok).scores(s.tokens).astype(np.float32)


def learned_vocabulary(
    b: Bench, held: str, top: int = 3, lift: float = 5.0
) -> dict[str, list[str]]:
    """Lay term → article terms that co-occur with it far above chance in (question, cited
    article) pairs of the other sources (sources weighted equally)."""
    pool = b.pool
    train = b.train(held)
    n = Counter(q.source for q in train)
    ct: Counter[str] = Counter()
    cu: Counter[str] = Counter()
    ctu: Counter[tuple[str, str]] = Counter()
    total = 0.0
    terms: dict[str, set[str]] = {}
    for q in train:
        gold = [a for a in q.gold if a in pool.article_index]
        if not gold:
            continue
        w = 1000.0 / len(n) / n[q.source]
        for a in gold:
            if a not in terms:
                terms[a] = set(pool.tokenizer(pool.articles[pool.article_index[a]].text))
        qt = set(b.scores[q.id].plain_tokens)
        at = set().union(*(terms[a] for a in gold))
        total += w
        ct.update(dict.fromkeys(qt, w))
        cu.update(dict.fromkeys(at, w))
        for t in qt:
            for u in at - {t}:
                ctu[(t, u)] += w
    by: dict[str, list[tuple[float, str]]] = {}
    for (t, u), c in ctu.items():
        if c < 3 or ct[t] < 3:
            continue
        p = c / ct[t]
        gain = p / (cu[u] / total)
        if p >= 0.2 and gain >= lift:
            by.setdefault(t, []).append((gain * p, u))
    return {t: [u for _, u in sorted(v, reverse=True)[:top]] for t, v in by.items()}


def ranker_cv(b: Bench) -> tuple[dict[str, dict[str, float]], list[tuple[str, float]], float]:
    """LightGBM LambdaRank over the hybrid's top 200, trained on the other sources.

    Training questions of source T in the fold of held-out S see neither S's nor T's
    cases (their features are computed as a test question's would be)."""
    pool = b.pool
    citing = citing_rows(pool)
    cat0 = R.Catalogue.build([a for a in pool.articles if a.current], pool.tokenizer)
    cats: dict[Hidden, R.Catalogue] = {}
    groups: dict[tuple[str, Hidden], tuple[np.ndarray, np.ndarray, list[str]]] = {}

    def group(q: Q, hide: Hidden) -> tuple[np.ndarray, np.ndarray, list[str]]:
        if (q.id, hide) not in groups:
            ok = b.case_ok(hide)
            if hide not in cats:
                cats[hide] = cat0.with_priors(pool.cases[i].cited_ids for i in np.flatnonzero(ok))
            cands = candidates(b, q, hide, CONFIGS["hybrid"], citing)
            x = R.features(q.text, b.scores[q.id].tokens, cands, cats[hide])
            y = np.array([c.article_id in q.gold for c in cands], np.float32)
            groups[(q.id, hide)] = (x, y, [c.article_id for c in cands])
        return groups[(q.id, hide)]

    out = {}
    model = None
    for held in SETS:
        train = b.train(held)
        n = Counter(q.source for q in train)
        data = [group(q, b.hidden(q.source, held))[:2] for q in train]
        weights = [len(train) / len(n) / n[q.source] for q in train]
        model = R.train(data, weights, R.TrainParams(seed=SEED))
        rows = []
        for q in b.test(held):
            x, _, ids = group(q, b.hidden(held))
            rows.append(
                query_metrics(
                    [a for a, _ in model.rerank([R.Candidate(a, 0) for a in ids], x)], q.gold
                )
            )
        out[held] = mean_metrics(rows)
    assert model is not None
    # cost on the query path: features + model over 200 candidates
    hide = b.hidden("everyday")
    cat = cats[hide]
    times = []
    for q in b.test("everyday"):
        cands = candidates(b, q, hide, CONFIGS["hybrid"], citing)
        t = time.perf_counter()
        model.rerank(cands, R.features(q.text, b.scores[q.id].tokens, cands, cat))
        times.append((time.perf_counter() - t) * 1000)
    return out, R.importances(model), statistics.median(times)


# ---- report --------------------------------------------------------------------------


def full_table(b: Bench) -> str:
    rows = [
        "| set (queries) | retriever | " + " | ".join(COLS) + " |",
        "|---|---|" + "---|" * len(COLS),
    ]
    for s in SETS:
        for name in ("bm25", "dense", "rrf", "hybrid-noprec", "hybrid"):
            m = b.metrics(s, b.config(CONFIGS[name]))
            label = f"**{name}**" if name == "hybrid" else name
            rows.append(
                f"| {s} ({len(b.test(s))}) | {label} | "
                + " | ".join(f"{m[c]:.3f}" for c in COLS)
                + " |"
            )
    return "\n".join(rows)


LEVERS = ("baseline", "precedent", "prior", "adapter", "finetuned", "docexp", "vocab", "ranker")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", default=os.environ.get("FENGQIAO_KB") or str(REPO / "kb"))
    ap.add_argument("--cache", type=Path, default=REPO / "kb" / "bench-cache")
    ap.add_argument("--finetuned", type=Path, nargs="*", default=[])
    ap.add_argument(
        "--levers",
        default=",".join(LEVERS),
        help="compute only these; the others are taken from the last run's results file",
    )
    ap.add_argument("--limit", type=int, default=0, help="queries per set (0 = all): a quick run")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    want = set(args.levers.split(","))
    pool = Pool.load(args.kb, args.cache)
    b = Bench(pool, args.limit)
    saved = args.cache / "generalise.json"
    res: dict[str, list[str]] = json.loads(saved.read_text()) if saved.exists() else {}

    def put(key: str, lines: list[str]) -> None:
        res[key] = lines
        print("\n".join(lines), flush=True)
        saved.write_text(json.dumps(res, ensure_ascii=False, indent=1))

    h = CONFIGS["hybrid"]
    if "baseline" in want:
        put("table", [full_table(b)])
        put(
            "baseline",
            [
                lever_row("hybrid (default)", {s: b.metrics(s, b.config(h)) for s in SETS}),
                lever_row(
                    "hybrid, lawyer-llama trust 0.5 (the default until the study below)",
                    {
                        s: b.metrics(
                            s, b.config(replace(h, precedent_trust=(("lawyer-llama", 0.5),)))
                        )
                        for s in SETS
                    },
                ),
                lever_row(
                    "hybrid-noprec",
                    {s: b.metrics(s, b.config(CONFIGS["hybrid-noprec"])) for s in SETS},
                ),
            ],
        )
    if "precedent" in want:
        notes, grid = precedent_grid(b)
        put(
            "precedent",
            [
                lever_row("precedent settings chosen on the other sets", grid),
                lever_row("precedent: lawyer-llama trust 0.25", grid["fixed:(0.25, 2.0, 0.88)"]),
                lever_row(
                    "precedent: lawyer-llama cases never lift", grid["fixed:(0.0, 2.0, 0.88)"]
                ),
            ],
        )
        put(
            "precedent-notes",
            ["Precedent settings chosen per held-out set: " + "; ".join(notes) + "."],
        )
    if "prior" in want:
        put(
            "prior",
            [
                lever_row(
                    f"hybrid (default) + generality prior, weight {w}",
                    {s: b.metrics(s, generality_prior(b, w)) for s in SETS},
                )
                for w in (0.1, 0.2)
            ],
        )
    if "adapter" in want:
        dense_cfg = CONFIGS["dense"]
        adapters = ridge_adapter(b)

        def adapted(s: str) -> Callable:
            return lambda q, sc, ok: adapters[s](q, sc)

        put(
            "adapter",
            [
                lever_row("dense alone", {s: b.metrics(s, b.config(dense_cfg)) for s in SETS}),
                lever_row(
                    "dense alone, ridge adapter λ=300",
                    {s: b.metrics(s, b.config(dense_cfg, dense_scores=adapted(s))) for s in SETS},
                ),
                lever_row(
                    "hybrid, ridge adapter λ=300",
                    {s: b.metrics(s, b.config(h, dense_scores=adapted(s))) for s in SETS},
                ),
            ],
        )
    if "finetuned" in want and args.finetuned:
        put("finetuned", [row for ft in args.finetuned for row in finetuned_rows(b, ft)])
    if "docexp" in want:
        expand = doc_expansion(b)
        put(
            "docexp",
            [
                lever_row(
                    "hybrid, BM25 with document expansion (citing questions)",
                    {s: b.metrics(s, b.config(h, keyword_scores=expand)) for s in SETS},
                )
            ],
        )
    if "vocab" in want:
        voc_rows = {}
        for s in SETS:
            voc = learned_vocabulary(b, s)

            def kw(q: Q, sc: Scores, ok: np.ndarray, voc: dict[str, list[str]] = voc) -> np.ndarray:
                extra = [
                    u
                    for t in dict.fromkeys(sc.plain_tokens)
                    for u in voc.get(t, ())
                    if u not in sc.tokens
                ]
                toks = sc.tokens + list(dict.fromkeys(extra))
                return pool._per_parent(
                    pool._a_bm25.scores(toks), pool._a_parent, len(pool.articles)
                )

            voc_rows[s] = b.metrics(s, b.config(h, keyword_scores=kw))
        put("vocab", [lever_row("hybrid, learned lay→legal vocabulary added to BM25", voc_rows)])
    if "ranker" in want:
        rk, imp, ms = ranker_cv(b)
        put("ranker", [lever_row("LightGBM LambdaRank over the hybrid's top 200", rk)])
        put(
            "ranker-notes",
            [
                f"Ranker cost on the query path: {ms:.1f} ms median (features + model, 200 "
                "candidates, loaded machine). Feature importance (gain share, model of the "
                "everyday fold): " + ", ".join(f"{n} {g:.2f}" for n, g in imp[:12]) + "."
            ],
        )
    print(f"{(time.time() - t0) / 60:.1f} min", flush=True)
    if args.write:
        write(render(res, pool))
    return 0


def render(res: dict[str, list[str]], pool: Pool) -> str:
    order = ("baseline", "precedent", "prior", "adapter", "finetuned", "docexp", "vocab", "ranker")
    lines = [
        "<!-- table leave-source-out -->",
        "Produced by: `python bench/generalise.py --kb KB --write` (knowledge base: "
        f"{len(pool.articles)} articles, {len(pool.cases)} cases; curated tier; leave-source-out).",
        "",
        *res.get("table", []),
        "",
        LEVER_HEAD,
        *[row for k in order for row in res.get(k, [])],
        "",
        *res.get("precedent-notes", []),
        *res.get("ranker-notes", []),
        "<!-- end leave-source-out -->",
    ]
    return "\n".join(lines)


def finetuned_rows(b: Bench, folder: Path) -> list[str]:
    """Dense alone and hybrid with the article vectors and question vectors of a model
    fine-tuned by bench/finetune_e5.py (held-out set named in its run.json)."""
    info = json.loads((folder / "run.json").read_text())
    held = info["hold_out"]
    units = np.load(folder / "article_units.npy")
    qz = np.load(folder / "queries.npz")
    pool = b.pool

    def dense(q: Q, s: Scores, ok: np.ndarray) -> np.ndarray:
        v = qz[hashlib.sha1(q.text.encode()).hexdigest()]
        return pool._per_parent(units @ v, pool._a_parent, len(pool.articles))

    shown = [held, "everyday"]
    res_d = {s: b.metrics(s, b.config(CONFIGS["dense"], dense_scores=dense)) for s in shown}
    res_h = {s: b.metrics(s, b.config(CONFIGS["hybrid"], dense_scores=dense)) for s in shown}
    kept = replace(CONFIGS["hybrid"], precedent_trust=(("lawyer-llama", 0.25),))
    res_k = {s: b.metrics(s, b.config(kept, dense_scores=dense)) for s in shown}
    na = {"R@10": math.nan, "MRR@10": math.nan, "Hit@1": math.nan}
    label = f"e5 fine-tuned without {held} ({info['pairs']} pairs, {info['train_minutes']} min)"
    return [
        lever_row(f"dense alone, {label}", {s: res_d.get(s, na) for s in SETS}).replace(
            "nan / nan / nan", "—"
        ),
        lever_row(f"hybrid, {label}", {s: res_h.get(s, na) for s in SETS}).replace(
            "nan / nan / nan", "—"
        ),
        lever_row(
            f"hybrid + lawyer-llama trust 0.25, {label}", {s: res_k.get(s, na) for s in SETS}
        ).replace("nan / nan / nan", "—"),
    ]


def write(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    start, end = "<!-- table leave-source-out -->", "<!-- end leave-source-out -->"
    if start in doc:
        doc = doc[: doc.index(start)] + text + doc[doc.index(end) + len(end) :]
    else:
        doc += "\n\n## Leave-source-out: what each lever gave\n\n" + text + "\n"
    DOC.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
