"""Fine-tune e5-small on question → cited-article pairs of other sources, then re-embed articles.

usage: python bench/finetune_e5.py --kb KB --hold-out lawbench-3-8 --out DIR
                                   [--per-source 300] [--epochs 1] [--max-len 128] [--seed 13]

The cheap version of full fine-tuning that fits this 2-core machine: the word
embeddings (96M of the 118M parameters) stay frozen, the 12 transformer layers train
with in-batch negatives plus one hard negative per question (the best-ranked
non-gold article of the same law under the original model), the loss of
sentence-transformers' MultipleNegativesRankingLoss (scale 20), written as a plain
torch loop because ``datasets``/``accelerate`` are not dependencies here.
Questions of ``--hold-out`` never train (cross-source fold). Writes
``DIR/model`` (a sentence-transformers folder), ``DIR/article_units.npy`` (vectors of
the knowledge base's article units, in its order) and ``DIR/queries.npz`` (vectors of
every query of the shared sets and the everyday set), plus ``DIR/run.json`` (minutes,
pairs, sizes). ``bench/generalise.py --finetuned DIR`` then scores the held-out sets.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import EVAL, Pool, case_questions, read_set  # noqa: E402

EVERYDAY = REPO / "tests" / "data" / "eval" / "everyday.jsonl"


def pairs_for(pool: Pool, hold_out: str, per_source: int, seed: int) -> list[tuple[str, str, str]]:
    """(question, positive passage, hard negative passage) from every source but ``hold_out``."""
    rng = random.Random(seed)
    qs = [*read_set(EVAL / "lawbench-3-8.jsonl"), *read_set(EVAL / "lawyer-llama.jsonl")]
    qs += [*read_set(EVAL / "lawbench-3-2.jsonl"), *case_questions(pool)]
    by_src: dict[str, list] = defaultdict(list)
    for q in qs:
        gold = [g for g in q.gold if g in pool.article_index]
        if q.source != hold_out and gold:
            by_src[q.source].append((q, gold))
    unit_of: dict[str, str] = {}
    for text, parent in zip(pool.unit_text, pool._a_parent, strict=True):
        unit_of.setdefault(pool.articles[parent].id, text)
    out = []
    for _src, items in sorted(by_src.items()):
        rng.shuffle(items)
        chosen = items[:per_source]
        vecs = pool.encode([q.text for q, _ in chosen])
        for (q, gold), v in zip(chosen, vecs, strict=True):
            pos = rng.choice(gold)
            law = pos.split(":")[0]
            dense = pool._a_vec @ v
            neg = (
                next(
                    pool.articles[p].id
                    for p in (pool._a_parent[u] for u in np.argsort(-dense)[:400])
                    if pool.articles[p].law == law and pool.articles[p].id not in q.gold
                )
                if any(a.law == law for a in pool.articles)
                else None
            )
            if neg is None:
                continue
            out.append((q.text, unit_of[pos], unit_of[neg]))
    rng.shuffle(out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", default=os.environ.get("FENGQIAO_KB") or str(REPO / "kb"))
    ap.add_argument("--hold-out", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--per-source", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--cache", type=Path, default=None)
    args = ap.parse_args()
    t0 = time.time()
    pool = Pool.load(args.kb, args.cache)
    pairs = pairs_for(pool, args.hold_out, args.per_source, args.seed)
    print(f"{len(pairs)} pairs", flush=True)

    import torch
    from sentence_transformers import SentenceTransformer

    from retrieval.encoders.embedder import default_model_dir

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    model = SentenceTransformer(str(default_model_dir()), device="cpu")
    model.max_seq_length = args.max_len
    for name, p in model.named_parameters():
        if "word_embeddings" in name:
            p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * ((len(pairs) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps)
    )

    def embed(texts: list[str]) -> torch.Tensor:
        feats = model.tokenize(texts)
        return model(feats)["sentence_embedding"]

    model.train()
    step = 0
    for epoch in range(args.epochs):
        for i in range(0, len(pairs), args.batch):
            batch = pairs[i : i + args.batch]
            q = embed(["query: " + b[0] for b in batch])
            d = embed(["passage: " + b[1] for b in batch] + ["passage: " + b[2] for b in batch])
            scores = 20.0 * q @ d.T
            loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(batch)))
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 5 == 0:
                print(
                    f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} "
                    f"{(time.time() - t0) / 60:.1f} min",
                    flush=True,
                )
    train_min = (time.time() - t0) / 60
    model.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(str(args.out / "model"))
    with torch.no_grad():
        vecs = model.encode(
            pool.unit_text,
            prompt="passage: ",
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        np.save(args.out / "article_units.npy", vecs.astype(np.float32))
        texts = [
            q.text
            for f in ("lawbench-3-8", "lawyer-llama", "lawbench-3-2")
            for q in read_set(EVAL / f"{f}.jsonl")
        ]
        texts += [q.text for q in read_set(EVERYDAY)]
        texts = list(dict.fromkeys(texts))
        qv = model.encode(
            texts,
            prompt="query: ",
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    np.savez(
        args.out / "queries.npz",
        **{hashlib.sha1(t.encode()).hexdigest(): v for t, v in zip(texts, qv, strict=True)},
    )
    size = sum(p.stat().st_size for p in (args.out / "model").rglob("*") if p.is_file())
    info = {
        "hold_out": args.hold_out,
        "pairs": len(pairs),
        "epochs": args.epochs,
        "seed": args.seed,
        "train_minutes": round(train_min, 1),
        "total_minutes": round((time.time() - t0) / 60, 1),
        "model_mb": round(size / 2**20, 1),
    }
    (args.out / "run.json").write_text(json.dumps(info, indent=2))
    print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
