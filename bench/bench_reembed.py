"""Re-embedding a knowledge base's article and case units: minutes and units per second.

What a changed base model costs: every distinct article and case unit text of a built
knowledge base (``index/article_units.jsonl``, ``index/case_units.jsonl``) is encoded
again through the build's own path (``retrieval.build.embed_units`` order: length-sorted
groups of ``CHECKPOINT_GROUP``, ``Embedder.encode_passages``; bf16 where the CPU has it),
without reading or writing any cache. Progress is printed every 40 groups. Clause vectors
are not included (issue 19's national target counts the 64,146 article and case units).

usage: python bench/bench_reembed.py --kb KB [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def unit_texts(kb: Path) -> list[str]:
    """Distinct unit texts of the article and case units, shortest first (as a build)."""
    texts: dict[str, None] = {}
    for name in ("article_units.jsonl", "case_units.jsonl"):
        with open(kb / "index" / name, encoding="utf-8") as f:
            for line in f:
                texts.setdefault(json.loads(line)["text"], None)
    return sorted(texts, key=len)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=0, help="every n-th text only (0 = all)")
    a = ap.parse_args()

    from retrieval.config import CHECKPOINT_GROUP
    from retrieval.encoders.embedder import STEmbedder, bf16_passages

    texts = unit_texts(a.kb)
    if a.limit:
        texts = texts[:: max(1, len(texts) // a.limit)]
    print(f"{len(texts)} distinct unit texts; passages in bf16: {bf16_passages()}", flush=True)
    emb = STEmbedder()
    t0 = time.perf_counter()
    for i in range(0, len(texts), CHECKPOINT_GROUP):
        emb.encode_passages(texts[i : i + CHECKPOINT_GROUP], batch_size=32)
        done = min(i + CHECKPOINT_GROUP, len(texts))
        if done % (CHECKPOINT_GROUP * 40) == 0 or done == len(texts):
            print(f"  {done}/{len(texts)} {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    spent = time.perf_counter() - t0
    print(
        f"re-embedded {len(texts)} units in {spent / 60:.2f} min, {len(texts) / spent:.1f} units/s"
    )


if __name__ == "__main__":
    main()
