"""Three label-free levers for the right article, measured leave-source-out (session 13).

usage: python bench/label_free.py chapter    --kb KB --adapters DIR [--out FILE.json]
       python bench/label_free.py bigram     --kb KB --adapters DIR [--out FILE.json]
       python bench/label_free.py neighbours --kb KB --adapters DIR [--out FILE.json]
       python bench/label_free.py hubs       --kb KB --adapters DIR [--out FILE.json]

``chapter``: law routing one level down. After the shipped fusion, every article is
lifted by ``w`` times its chapter's evidence (the sum of the chapter's ``top`` best fused
scores, relative to the best chapter's: ``retrieval.fusion.route`` with the chapter as
the group), the chapter being the article's law and its headings down to the first
ending in 章, or in 节 for the finer grouping.

``bigram``: a character-bigram BM25 run (bm25s, k1 1.2, b 0.75, over each current
article's law name, headings and text) beside the shipped jieba-word BM25 run: the two
min-max normalised and summed with weight ``lam`` on the bigrams into the one keyword run
the fusion weighs, or the bigram run instead of the word run. Bigrams need no segmenter,
so a lay word jieba splits differently from the statute still matches.

``neighbours``: precedent evidence is a vote of the nearest labelled questions of the
other sources. Are they nearer the right ones with the question-side adapter? Every
labelled question is encoded with the base e5 vector and with the fold's adapted vector;
each held-out question's ``k`` nearest other-source questions vote for their gold
articles (softmax weights of temperature ``t`` over cosine, lawyer-llama's silver labels
at 0.25, each question's vote split over its gold articles). No product fusion: this
asks only which vector finds better neighbours.

``hubs``: precedent evidence with hub cases discounted. A case whose vector sits close to
many others (a generic question: "上班受伤了，有没有工伤赔偿？") is among the nearest cases of
every question of its kind and lifts its articles for all of them. Cross-domain
similarity local scaling (Conneau et al., "Word translation without parallel data", ICLR
2018) corrects a similarity by the neighbourhood density of its target: each case's
cosine to the question becomes ``cos - beta * (r_c - median r)``, ``r_c`` the mean cosine of
the case to its ``k`` nearest other cases. ``r_c`` is computed per fold over the cases the
fold's questions may use (none of their own source family), from vectors only.

The same subcommand tries the opposite correction, for evidence from a sparse
neighbourhood (two cases near every question of a kind the other sources seldom ask):
the precedent run damped by ``M / (M + m0)``, ``M`` its total lift.

``chapter``, ``bigram`` and ``hubs`` run the shipped first stage (``Searcher.first_stage``) once per
question with the filter ``fengqiao eval --leave source`` gives it and then
``Searcher.fuse``; each setting is chosen for a fold on the other folds, as in
``bench/tune_evidence.py`` (whose docstring says how to build the knowledge base and the
fold adapters). The figures are in docs/quality.md ("Three label-free levers"); none was
adopted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from tune_evidence import (  # noqa: E402
    FOLDS,
    N_CASES,
    SETS,
    fold_embedder,
    objective,
    pool_folds,
)

from ingest.records import Article  # noqa: E402
from retrieval import fusion  # noqa: E402
from retrieval.config import DEFAULT_CONFIG  # noqa: E402
from retrieval.evaluate import Query, leave_out, mean_metrics, query_metrics, read_queries  # noqa: E402
from retrieval.hits import Filters  # noqa: E402
from retrieval.search import FirstStage, Searcher, keyword_run  # noqa: E402

COLS = ("R@10", "Hit@1", "MRR@10")
HAN_OR_WORD = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z0-9]+")
Row = tuple[Query, FirstStage, Filters, dict[str, float]]
Ranker = Callable[[Row], list[str]]


def chapter_of(article: Article, level: str) -> str:
    """The article's law and headings down to the first ending in ``level`` (章 or 节)."""
    path: list[str] = []
    for heading in article.path:
        path.append(heading)
        if heading.split()[:1] and heading.split()[0].endswith(level):
            break
    return "/".join([article.law, *path])


def bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of each run of Han characters (a lone one kept)."""
    out: list[str] = []
    for run in HAN_OR_WORD.findall(text):
        out += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return out


class BigramIndex:
    """BM25 over character bigrams of every current article (law, headings, text)."""

    def __init__(self, articles: list[Article]) -> None:
        import bm25s

        self.ids = [a.id for a in articles]
        self.vocab: dict[str, int] = {}
        docs = [bigrams(" ".join([a.law, *a.path, a.text])) for a in articles]
        encoded = [[self.vocab.setdefault(t, len(self.vocab)) for t in d] for d in docs]
        self.bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self.bm25.index(bm25s.tokenization.Tokenized(ids=encoded, vocab=self.vocab), False)

    def run(self, question: str, depth: int = 300) -> dict[str, float]:
        tokens = [self.vocab[t] for t in bigrams(question) if t in self.vocab]
        if not tokens:
            return {}
        scores = self.bm25.get_scores(tokens)
        return {self.ids[i]: float(scores[i]) for i in np.argsort(-scores)[:depth] if scores[i] > 0}


def first_stages(
    searcher: Searcher, adapters: Path, extra: Callable[[str], dict[str, float]] | None
) -> dict[str, list[Row]]:
    """Every set's questions through the shipped first stage, each with its fold's adapter."""
    t0 = time.time()
    out: dict[str, list[Row]] = {}
    for name, path in SETS.items():
        searcher.embedder = fold_embedder(adapters, name)
        rows: list[Row] = []
        for q in read_queries(path, "curated"):
            flt = leave_out(q, "source")
            first = searcher.first_stage(q.query, flt=flt, cfg=DEFAULT_CONFIG, n_cases=N_CASES)
            rows.append((q, first, flt, extra(q.query) if extra else {}))
        out[name] = rows
        print(f"{name}: {len(rows)} first stages, {(time.time() - t0) / 60:.1f} min", flush=True)
    return out


def fold_table(
    firsts: Mapping[str, list[Row]], settings: Mapping[str, Ranker]
) -> dict[str, dict[str, dict[str, float]]]:
    """Each setting's figures per fold (lawyer-llama and zixun pooled) and on everyday;
    prints them, then each fold's figures under the setting the other folds choose."""
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, rank in settings.items():
        per_set = {
            s: mean_metrics([query_metrics(rank(row)[:100], row[0].gold) for row in rows])
            for s, rows in firsts.items()
        }
        folds = pool_folds(per_set, {s: len(rows) for s, rows in firsts.items()})
        results[name] = folds
        cells = " | ".join(
            f"{f} " + "/".join(f"{v[c]:.3f}" for c in COLS) for f, v in folds.items()
        )
        print(f"{name}: {cells}", flush=True)
    base = next(iter(settings))
    print("\nheld out (R@10 / Hit@1 / MRR@10), the setting chosen on the other folds:")
    for fold in FOLDS:
        others = [f for f in FOLDS if f != fold]
        best = max(results, key=lambda n: sum(objective(results[n][f]) for f in others))
        b, c = results[base][fold], results[best][fold]
        before, after = ("/".join(f"{x[k]:.3f}" for k in COLS) for x in (b, c))
        print(f"  {fold}: {best}: {before} → {after}")
    return results


def chapter_settings(searcher: Searcher) -> dict[str, Ranker]:
    def make(w: float, top: int, level: str) -> Ranker:
        def rank(row: Row) -> list[str]:
            _, first, flt, _ = row
            fused = searcher.fuse(first, DEFAULT_CONFIG, flt)
            if w and fused:
                group = {d: chapter_of(searcher.catalogue.article(d), level) for d in fused}  # type: ignore[arg-type]
                fused = fusion.route(fused, group, w, top)
            return fusion.ranked(fused)

        return rank

    out = {"shipped": make(0.0, 3, "章")}
    for w, top, level in itertools.product((0.1, 0.2, 0.3, 0.5), (1, 3), ("章", "节")):
        out[f"chapter{w}-top{top}-{level}"] = make(w, top, level)
    return out


def bigram_settings(searcher: Searcher) -> dict[str, Ranker]:
    def make(lam: float, instead: bool) -> Ranker:
        def rank(row: Row) -> list[str]:
            _, first, flt, grams = row
            if lam or instead:
                words = fusion.minmax(keyword_run(first, DEFAULT_CONFIG) or {})
                chars = fusion.minmax(grams)
                run = (
                    chars
                    if instead
                    else {d: words.get(d, 0.0) + lam * chars.get(d, 0.0) for d in {*words, *chars}}
                )
                first = replace(first, keyword=run, expansion=None)
            return fusion.ranked(searcher.fuse(first, DEFAULT_CONFIG, flt))

        return rank

    out = {"shipped": make(0.0, False)}
    for lam in (0.25, 0.5, 1.0, 2.0):
        out[f"words+{lam}×bigrams"] = make(lam, False)
    out["bigrams instead of words"] = make(0.0, True)
    return out


FAMILY_SOURCES = {
    "equals": ("equals",),
    "lawbench-3-8": ("lawbench-3-8",),
    "lawbench-3-2": ("lawbench-3-2",),
    "lawyer-llama": ("lawyer-llama", "zixun"),
    "zixun": ("lawyer-llama", "zixun"),
    "everyday": (),
}


def case_vectors(searcher: Searcher, ids: list[str]) -> np.ndarray:
    """Each case's mean unit vector, normalised (the flat store's arrays: a study only)."""
    st = searcher.cases.store._state  # type: ignore[attr-defined]
    out = np.zeros((len(ids), st.dense.vectors.shape[1]), np.float32)
    for i, cid in enumerate(ids):
        p = st.parent_index[cid]
        v = np.asarray(st.dense.vectors[int(st.starts[p]) : int(st.ends[p])], np.float32).mean(0)
        out[i] = v / np.linalg.norm(v)
    return out


def case_density(searcher: Searcher, k: int) -> dict[str, dict[str, float]]:
    """Per set: each case's mean cosine to its ``k`` nearest other cases, among the cases
    the set's questions may use (every case of another source family)."""
    from ingest.cases.link import source_key

    cases = list(searcher.cases)
    vectors = case_vectors(searcher, [c.id for c in cases])
    sources = np.array([source_key(c) for c in cases])
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    out: dict[str, dict[str, float]] = {}
    for name, own in FAMILY_SOURCES.items():
        allowed = ~np.isin(sources, own)
        part = sims[:, allowed]
        nearest = -np.partition(-part, k, axis=1)[:, :k]
        out[name] = {c.id: float(r) for c, r in zip(cases, nearest.mean(axis=1), strict=True)}
    return out


def hub_settings(searcher: Searcher, firsts: Mapping[str, list[Row]]) -> dict[str, Ranker]:
    density = {k: case_density(searcher, k) for k in (10, 50)}
    set_of = {id(row): name for name, rows in firsts.items() for row in rows}

    def make(beta: float, k: int) -> Ranker:
        def rank(row: Row) -> list[str]:
            _, first, flt, _ = row
            if beta:
                r = density[k][set_of[id(row)]]
                mid = float(np.median(list(r.values())))
                cos = {c: v - beta * (r.get(c, mid) - mid) for c, v in first.case_cos.items()}
                first = replace(first, case_cos=cos)
            return fusion.ranked(searcher.fuse(first, DEFAULT_CONFIG, flt))

        return rank

    def damped(m0: float) -> Ranker:
        """Evidence from few or distant cases counts less: the precedent run times M / (M +
        m0), M the run's total lift (two cases at cosine 0.92 give M ≈ 0.67)."""
        shipped = Searcher.precedent_run

        def run(first: FirstStage, cfg: Any, flt: Filters, via: Any = None) -> dict[str, float]:
            lifts = shipped(searcher, first, cfg, flt, via)
            mass = sum(lifts.values())
            return {a: v * mass / (mass + m0) for a, v in lifts.items()}

        def rank(row: Row) -> list[str]:
            _, first, flt, _ = row
            searcher.precedent_run = run  # type: ignore[method-assign]
            try:
                return fusion.ranked(searcher.fuse(first, DEFAULT_CONFIG, flt))
            finally:
                del searcher.precedent_run

        return rank

    out = {"shipped": make(0.0, 10)}
    for beta, k in itertools.product((0.25, 0.5, 1.0), (10, 50)):
        out[f"beta{beta}-k{k}"] = make(beta, k)
    for m0 in (0.25, 0.5, 1.0, 2.0):
        out[f"damped-m{m0}"] = damped(m0)
    return out


def neighbours(adapters: Path) -> dict[str, Any]:
    """Hit@1 / R@10 / MRR@10 of the nearest other-source questions' vote, per fold and
    vector (base, the fold's adapted), over k and temperature."""
    families = {"lawyer-llama": "llama+zixun", "zixun": "llama+zixun"}
    questions = [
        (name, q)
        for name in SETS
        if name != "everyday"
        for q in read_queries(SETS[name], "curated")
    ]
    fam = np.array([families.get(n, n) for n, _ in questions])
    trust = np.array([0.25 if n == "lawyer-llama" else 1.0 for n, _ in questions])
    out: dict[str, Any] = {}
    for fold in FOLDS:
        emb = fold_embedder(adapters, FOLDS[fold][0])
        texts = [q.query for _, q in questions]
        pairs = [emb.encode_question_pair(texts[i : i + 32]) for i in range(0, len(texts), 32)]
        vectors = {
            "base": np.vstack([b for b, _ in pairs]),
            "adapted": np.vstack([a for _, a in pairs]),
        }
        test = np.flatnonzero(fam == fold)
        train = np.flatnonzero(fam != fold)
        for (vec, v), k, t in itertools.product(vectors.items(), (5, 10, 20, 40), (0.02, 0.05)):
            rows = []
            for i in test:
                sims = v[train] @ v[i]
                near = np.argsort(-sims)[:k]
                votes: Counter[str] = Counter()
                for j in near:
                    w = trust[train[j]] * float(np.exp((sims[j] - sims[near[0]]) / t))
                    gold = questions[train[j]][1].gold
                    for g in gold:
                        votes[g] += w / len(gold)
                ranking = [a for a, _ in votes.most_common(100)]
                rows.append(query_metrics(ranking, questions[i][1].gold))
            m = mean_metrics(rows)
            out[f"{fold}|{vec}|k{k}|t{t}"] = m
            print(
                f"{fold} {vec} k={k} t={t}: " + " / ".join(f"{m[c]:.3f}" for c in COLS), flush=True
            )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lever", choices=("chapter", "bigram", "neighbours", "hubs"))
    ap.add_argument("--kb", help="knowledge base (chapter, bigram)")
    ap.add_argument("--adapters", type=Path, required=True, help="folder of fold adapters")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    if args.lever == "neighbours":
        results: Any = neighbours(args.adapters)
    elif not args.kb:
        ap.error(f"{args.lever} needs --kb")
    else:
        from retrieval.service import Service

        service = Service.load(Path(args.kb))
        searcher = service.searcher
        if args.lever == "chapter":
            firsts = first_stages(searcher, args.adapters, None)
            results = fold_table(firsts, chapter_settings(searcher))
        elif args.lever == "hubs":
            firsts = first_stages(searcher, args.adapters, None)
            results = fold_table(firsts, hub_settings(searcher, firsts))
        else:
            catalogue = searcher.catalogue
            index = BigramIndex(
                [a for law in catalogue.law_names for a in catalogue.law_articles(law)]
            )
            firsts = first_stages(searcher, args.adapters, index.run)
            results = fold_table(firsts, bigram_settings(searcher))
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
