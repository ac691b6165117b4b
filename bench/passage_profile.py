"""Where a bf16 passage encode spends its time, and what the cheap levers would save.

usage: python bench/passage_profile.py --kb NKB [--n 384] [--parts profile,tokens,attention,cast,processes]

The figures of docs/quality.md "Where the 23 minutes go", on a seeded sample of the
knowledge base's article units (the national tier's for that paragraph):

- ``profile``: ``torch.profiler`` over 128 seeded units as the build encodes them (bf16
  autocast, batch 16): the share of each operator;
- ``tokens``: every distinct unit's token count (``passage: `` prompt, truncated at
  512), and the share of the encoder's work a shorter truncation would save;
- ``attention``: ``scaled_dot_product_attention`` alone, by sequence length, for the
  model's shape (batch 16, 12 heads of 32), flash and math kernels;
- ``cast``: the linear weights cast to bf16 once against autocast casting them per call;
- ``processes``: two processes of one thread each against one process of two threads.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
HIDDEN = 384
BATCH = 16


def sample(kb: Path, n: int) -> list[str]:
    units = kb / "index" / "article_units.jsonl"
    texts = [json.loads(line)["text"] for line in units.open(encoding="utf-8")]
    return sorted(random.Random(13).sample(texts, min(n, len(texts))), key=len)


def load(threads: int):  # type: ignore[no-untyped-def]
    import torch

    from retrieval.encoders.embedder import STEmbedder

    torch.set_num_threads(threads)
    return STEmbedder(query_engine="st", threads=threads)._st  # noqa: SLF001


def encode_rate(st, texts: list[str], cast: bool = False) -> float:  # type: ignore[no-untyped-def]
    """Units per second, bf16 autocast at the build's batch size (``cast``: weights in bf16)."""
    import torch

    if cast:
        for m in st[0].auto_model.modules():
            if isinstance(m, torch.nn.Linear):
                m.to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        st.encode(texts[:8], prompt_name="passage", batch_size=BATCH)  # warm
        t = time.perf_counter()
        st.encode(texts, prompt_name="passage", batch_size=BATCH, normalize_embeddings=True)
        return len(texts) / (time.perf_counter() - t)


def profile(texts: list[str]) -> None:
    import torch
    from torch.profiler import ProfilerActivity

    st = load(2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        st.encode(texts[:BATCH], prompt_name="passage", batch_size=BATCH)
        with torch.profiler.profile(activities=[ProfilerActivity.CPU]) as p:
            st.encode(texts, prompt_name="passage", batch_size=BATCH)
    events = sorted(p.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events)
    print("operator shares (self CPU time):")
    for e in events[:8]:
        print(f"  {e.key:55s} {100 * e.self_cpu_time_total / total:5.1f} %")


def tokens(kb: Path) -> None:
    from transformers import AutoTokenizer

    from retrieval.encoders.embedder import default_model_dir

    tok = AutoTokenizer.from_pretrained(str(default_model_dir()))
    units = kb / "index" / "article_units.jsonl"
    texts = list({json.loads(line)["text"] for line in units.open(encoding="utf-8")})
    ids = tok(["passage: " + t for t in texts], add_special_tokens=True, verbose=False)
    n = np.array([min(512, len(x)) for x in ids["input_ids"]])

    def work(length: np.ndarray) -> np.ndarray:  # per layer: linear maps + attention
        return 24 * length * HIDDEN**2 + 4 * length**2 * HIDDEN

    print(f"{len(n)} distinct units, {n.sum():,} tokens, median {np.median(n):.0f}")
    print(f"  over 256 tokens {(n > 256).mean():.2%}, at 512 {(n >= 512).mean():.2%}")
    for cap in (384, 320, 256):
        saved = 1 - work(np.minimum(n, cap)).sum() / work(n).sum()
        print(f"  truncating at {cap}: {saved:.1%} of the work saved")


def attention() -> None:
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    torch.set_num_threads(2)
    print("scaled_dot_product_attention, batch 16 x 12 heads x 32, ms per call:")
    for length in (40, 74, 150, 300, 512):
        row = []
        for dtype in (torch.bfloat16, torch.float32):
            q = torch.randn(BATCH, 12, length, 32, dtype=dtype)
            for name, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("math", SDPBackend.MATH)):
                with sdpa_kernel(backend):
                    F.scaled_dot_product_attention(q, q, q)
                    t = time.perf_counter()
                    for _ in range(10):
                        F.scaled_dot_product_attention(q, q, q)
                ms = (time.perf_counter() - t) * 100
                row.append(f"{name} {str(dtype)[6:]} {ms:6.2f}")
        print(f"  {length:4d} tokens: " + " | ".join(row))


def processes(kb: Path, n: int) -> None:
    """Two one-thread processes on the two halves, timed by the slower one."""
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--kb", str(kb), "--n", str(n), "--half", str(half)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for half in (0, 1)
    ]
    seconds = max(float(p.communicate()[0].split()[-1]) for p in procs)
    print(f"two processes of one thread: {n / seconds:.1f} units/s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, required=True)
    ap.add_argument("--n", type=int, default=384)
    ap.add_argument("--parts", default="profile,tokens,attention,cast,processes")
    ap.add_argument("--half", type=int, help=argparse.SUPPRESS)  # a ``processes`` worker
    args = ap.parse_args()
    os.environ["FENGQIAO_MODEL"] = "base"  # passages are always the base model's
    parts = args.parts.split(",")
    texts = sample(args.kb, args.n)
    if args.half is not None:  # one thread on every other unit: print its seconds
        half = texts[args.half :: 2]
        print(len(half) / encode_rate(load(1), half))
        return 0
    if "profile" in parts:
        profile(
            sample(args.kb, 128)
        )  # a sample of its own: the first 128 of ``texts`` are the shortest
    if "tokens" in parts:
        tokens(args.kb)
    if "attention" in parts:
        attention()
    if "cast" in parts or "processes" in parts:
        print(f"one process of two threads: {encode_rate(load(2), texts):.1f} units/s")
    if "cast" in parts:
        print(
            f"linear weights cast to bf16 once: {encode_rate(load(2), texts, cast=True):.1f} units/s"
        )
    if "processes" in parts:
        processes(args.kb, args.n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
