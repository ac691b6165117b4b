"""Passage embedding: the torch path of a build against the 4-bit ONNX encoder (issue 19 item 6).

usage: python3 bench/bench_passage_engine.py [--kb KB] [--n 256] [--batch 16]

Encodes the same seeded sample of a knowledge base's article units (``passage: ``
prompt) with sentence-transformers (what ``fengqiao build`` runs) and with the ONNX
encoder exported for questions (4-bit weight-only MatMuls), alternating the two engines
per batch so a busy shared machine slows both alike, and prints units/s of each and
the cosine between their vectors (min / 1st percentile / mean).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", default=os.environ.get("FENGQIAO_KB") or str(REPO / "kb"))
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ["FENGQIAO_MODEL"] = "base"  # passages are always the base model's

    import torch

    from retrieval.encoders.embedder import STEmbedder
    from retrieval.encoders.onnx_query import OnnxQueryEncoder, onnx_dir

    units = [
        json.loads(line)["text"]
        for line in (Path(args.kb) / "index" / "article_units.jsonl").open(encoding="utf-8")
    ]
    texts = sorted(random.Random(13).sample(units, min(args.n, len(units))), key=len)
    torch.set_num_threads(args.threads)
    emb = STEmbedder(query_engine="st", threads=args.threads)
    st = emb._st  # noqa: SLF001 - the torch model a build uses
    model_dir = Path(emb._path)  # noqa: SLF001
    onnx = OnnxQueryEncoder(model_dir, onnx_dir(model_dir), threads=args.threads)
    tok = onnx._tok  # noqa: SLF001

    def onnx_passages(batch: list[str]) -> np.ndarray:
        rows = [e.ids for e in tok.encode_batch(["passage: " + t for t in batch])]
        n = max(len(r) for r in rows)
        x = np.zeros((len(rows), n, onnx._words.shape[1]), np.float32)  # noqa: SLF001
        mask = np.zeros((len(rows), n), np.int64)
        for i, r in enumerate(rows):
            x[i, : len(r)] = onnx._words[r]  # noqa: SLF001
            mask[i, : len(r)] = 1
        (out,) = onnx._sess.run(None, {"inputs_embeds": x, "attention_mask": mask})  # noqa: SLF001
        return np.asarray(out, np.float32)

    t_st = t_ox = 0.0
    a, b = [], []
    for i in range(0, len(texts), args.batch):
        batch = texts[i : i + args.batch]
        t = time.perf_counter()
        a.append(emb.encode_passages(batch, batch_size=args.batch))
        t_st += time.perf_counter() - t
        t = time.perf_counter()
        b.append(onnx_passages(batch))
        t_ox += time.perf_counter() - t
    va, vb = np.concatenate(a), np.concatenate(b)
    cos = (va * vb).sum(1)
    tokens = [len(r) for r in tok.encode_batch(["passage: " + t for t in texts])]
    print(
        json.dumps(
            {
                "units": len(texts),
                "median_tokens": int(np.median(tokens)),
                "torch_units_per_s": round(len(texts) / t_st, 1),
                "onnx_q4_units_per_s": round(len(texts) / t_ox, 1),
                "cosine_min": round(float(cos.min()), 5),
                "cosine_p1": round(float(np.percentile(cos, 1)), 5),
                "cosine_mean": round(float(cos.mean()), 6),
                "threads": args.threads,
                "st_loaded": st is not None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
