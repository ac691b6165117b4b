"""Passage embedding: the torch path of a build against the 4-bit ONNX encoder (issue 19 item 6).

usage: python3 bench/bench_passage_engine.py [--kb KB] [--n 256] [--batch 16]
                                             [--variants q4,fp32,q4-int8,int8,bf16] [--scratch DIR]

Encodes the same seeded sample of a knowledge base's article units (``passage: ``
prompt) with sentence-transformers (the torch path, kept for CUDA) and with ONNX
encoders of the same weights, alternating the engines per batch so a busy shared
machine slows all alike, and prints units/s of each and the cosine of each ONNX
variant's vectors to torch's (min / 1st percentile / mean). ``q4`` is the shipped
export (4-bit weight-only MatMuls, fp32 arithmetic); the other variants of
``retrieval.encoders.onnx_query.VARIANTS`` are exported into ``--scratch`` for the
comparison (``fp32``: the same weights dequantised; ``q4-int8``: int8 arithmetic;
``int8``: dynamic int8 activations and weights). ``bf16`` is torch itself in bfloat16
autocast (what a build uses on a CPU with AVX-512 BF16 or AMX, batches of
``embedder.BF16_BATCH``).
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
    ap.add_argument("--variants", default="q4")
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/fengqiao-passage-engines"))
    args = ap.parse_args()
    os.environ["FENGQIAO_MODEL"] = "base"  # passages are always the base model's

    import torch

    from retrieval.encoders.embedder import BF16_BATCH, STEmbedder
    from retrieval.encoders.onnx_query import (
        ENCODER,
        VARIANTS,
        OnnxQueryEncoder,
        _export_fp32,
        _quantize_q4,
        onnx_dir,
    )

    units = [
        json.loads(line)["text"]
        for line in (Path(args.kb) / "index" / "article_units.jsonl").open(encoding="utf-8")
    ]
    texts = sorted(random.Random(13).sample(units, min(args.n, len(units))), key=len)
    torch.set_num_threads(args.threads)
    emb = STEmbedder(query_engine="st", threads=args.threads)
    st = emb._st  # noqa: SLF001 - the torch model a build uses
    model_dir = Path(emb._path)  # noqa: SLF001
    variants = args.variants.split(",")
    torch_variants = [v for v in variants if v == "bf16"]
    variants = [v for v in variants if v != "bf16"]
    scratch = args.scratch
    fp32 = scratch / VARIANTS["fp32"]
    if set(variants) - {"q4"} and not fp32.exists():
        scratch.mkdir(parents=True, exist_ok=True)
        _export_fp32(model_dir, scratch, fp32)
    for v in set(variants) - {"q4", "fp32"}:
        if not (scratch / VARIANTS[v]).exists():
            if v == "int8":
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantize_dynamic(
                    fp32,
                    scratch / VARIANTS[v],
                    weight_type=QuantType.QInt8,
                    op_types_to_quantize=["MatMul"],
                    per_channel=True,
                )
            else:
                _quantize_q4(fp32, scratch / VARIANTS[v], accuracy_level=4)
    engines = {
        v: OnnxQueryEncoder(
            model_dir,
            onnx_dir(model_dir) if v == "q4" else scratch,
            threads=args.threads,
            encoder=ENCODER if v == "q4" else VARIANTS[v],
        )
        for v in variants
    }
    tok = emb._st.tokenizer if not variants else engines[variants[0]]._tok  # noqa: SLF001

    def onnx_passages(onnx: OnnxQueryEncoder, batch: list[str]) -> np.ndarray:
        rows = [e.ids for e in tok.encode_batch(["passage: " + t for t in batch])]
        n = max(len(r) for r in rows)
        x = np.zeros((len(rows), n, onnx._words.shape[1]), np.float32)  # noqa: SLF001
        mask = np.zeros((len(rows), n), np.int64)
        for i, r in enumerate(rows):
            x[i, : len(r)] = onnx._words[r]  # noqa: SLF001
            mask[i, : len(r)] = 1
        (out,) = onnx._sess.run(None, {"inputs_embeds": x, "attention_mask": mask})  # noqa: SLF001
        return np.asarray(out, np.float32)

    spent = dict.fromkeys(["torch", *variants, *torch_variants], 0.0)
    vecs: dict[str, list[np.ndarray]] = {k: [] for k in spent}
    for i in range(0, len(texts), args.batch):
        batch = texts[i : i + args.batch]
        t = time.perf_counter()
        vecs["torch"].append(
            st.encode(
                batch, prompt_name="passage", batch_size=args.batch, normalize_embeddings=True
            )
        )
        spent["torch"] += time.perf_counter() - t
        for v, onnx in engines.items():
            t = time.perf_counter()
            vecs[v].append(onnx_passages(onnx, batch))
            spent[v] += time.perf_counter() - t
        for v in torch_variants:
            t = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                vecs[v].append(
                    st.encode(
                        batch,
                        prompt_name="passage",
                        batch_size=min(args.batch, BF16_BATCH),
                        normalize_embeddings=True,
                    )
                )
            spent[v] += time.perf_counter() - t
    ref = np.concatenate(vecs["torch"])
    prompted = ["passage: " + t for t in texts]
    tokens = (
        [len(r) for r in tok.encode_batch(prompted)]
        if variants
        else [len(r) for r in tok(prompted)["input_ids"]]
    )
    out: dict[str, object] = {
        "units": len(texts),
        "median_tokens": int(np.median(tokens)),
        "threads": args.threads,
        "torch_units_per_s": round(len(texts) / spent["torch"], 1),
    }
    for v in [*variants, *torch_variants]:
        cos = (ref * np.concatenate(vecs[v])).sum(1)
        out[v] = {
            "units_per_s": round(len(texts) / spent[v], 1),
            "vs_torch": round(spent["torch"] / spent[v], 2),
            "cosine_min": round(float(cos.min()), 5),
            "cosine_p1": round(float(np.percentile(cos, 1)), 5),
            "cosine_mean": round(float(cos.mean()), 6),
        }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
