"""Study: an adapted question vector for the article dense run, the base vector for cases.

usage: python bench/dual_vector.py --kb KB --adapter FOLD.safetensors --queries FILE.jsonl
                                   [--scratch DIR] [--cut 11]

The query adapter of ``bench/adapt_e5.py`` lowers question–passage cosines by ~0.09, so
with it alone no question reaches the precedent floor and precedent evidence switches off
(docs/quality.md "Adapting the encoder"). Here the shipped search runs unchanged except
that its article dense run uses the adapted vector; nearest cases (precedent evidence,
similar cases) keep the base vector their floors were calibrated on. ``--adapter`` must
be trained without the set of ``--queries`` (``adapt_e5.py ship --hold-out FAMILY``) for
the figures to be held out. Questions are encoded from the cached lower-layer states of
``adapt_e5.py`` (run its study or ship first).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import bench.adapt_e5 as adapt  # noqa: E402
from retrieval import search  # noqa: E402
from retrieval.encoders.embedder import default_model_dir  # noqa: E402
from retrieval.evaluate import evaluate, read_queries  # noqa: E402

COLS = ("R@10", "R@100", "Hit@1", "MRR@10")


def adapted_vectors(texts: list[str], adapter: Path, scratch: Path, cut: int) -> dict:
    """Each question's vector under the base model plus the adapter's delta (top layers)."""
    import torch
    from safetensors.torch import load_file

    cache = adapt.StateCache(scratch / "states", default_model_dir())
    cache.ensure(texts)  # the frozen lower layers, once per new question
    top = adapt.Top(cache.bert(), cut)
    state = top.layers.state_dict()
    for name, delta in load_file(str(adapter)).items():
        layer, rest = name[len("encoder.layer.") :].split(".", 1)
        key = f"{int(layer) - cut}.{rest}"
        state[key] = state[key] + delta.float()
    top.layers.load_state_dict(state)
    have = [t for t in texts if cache.key(t) in cache.index]
    if cut not in adapt.CUTS:
        cache.derive(have, cut)  # from the cached layer-10 inputs
    out = {}
    with torch.no_grad():
        for i in range(0, len(have), 64):
            batch = have[i : i + 64]
            vecs = top.encode([cache.get(t, cut) for t in batch]).numpy()
            out.update(zip(batch, vecs, strict=True))
    print(f"{len(out)} of {len(texts)} questions have cached states", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", required=True)
    ap.add_argument("--adapter", type=Path, required=True)
    ap.add_argument("--queries", type=Path, required=True)
    ap.add_argument("--scratch", type=Path, default=adapt.SCRATCH)
    ap.add_argument("--cut", type=int, default=11)
    args = ap.parse_args()

    from retrieval.service import Service

    questions = [q.query for q in read_queries(args.queries, "curated")]
    vectors = adapted_vectors(questions, args.adapter, args.scratch, args.cut)
    service = Service.load(Path(args.kb))
    shipped = search.Searcher.first_stage

    def first_stage(self, question, *, flt, cfg, n_cases, encode=False):  # type: ignore[no-untyped-def]
        first = shipped(self, question, flt=flt, cfg=cfg, n_cases=n_cases, encode=encode)
        vec = vectors.get(question)
        if vec is not None and first.semantic is not None:
            first.semantic = search._run(self.articles.store.dense(vec, flt, cfg.depth))
        return first

    for label, stage in (("base", shipped), ("dual", first_stage)):
        search.Searcher.first_stage = stage  # type: ignore[method-assign]
        res = evaluate(service, args.queries, "curated", ["hybrid", "dense"], leave="source")
        for config, m in res.by_config.items():
            print(f"{label:5} {config:7} " + "  ".join(f"{k} {m[k]:.3f}" for k in COLS))
    search.Searcher.first_stage = shipped  # type: ignore[method-assign]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
