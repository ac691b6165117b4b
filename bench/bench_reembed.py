"""Re-embedding a knowledge base's article and case units: minutes and units per second.

What a changed base model costs: the article and case units of a built knowledge base
(``KBFolder.index``'s records) go through the build's own ``retrieval.build.embed_units``
(distinct texts, length-sorted checkpoint groups, ``Embedder.encode_passages``: bf16
where the CPU has it, the encoder compiled from ``embedder.COMPILE_MIN`` units unless
``FENGQIAO_PASSAGE_COMPILE=0``) into an empty embedding cache in a temporary folder, so nothing is
reused and the knowledge base's own cache is not touched. Clause vectors are not
included (issue 19's national target counts the 64,146 article and case units).

usage: python bench/bench_reembed.py --kb KB [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=0, help="every n-th unit only (0 = all)")
    a = ap.parse_args()

    from retrieval.build import embed_units
    from retrieval.encoders.embcache import EmbeddingCache
    from retrieval.encoders.embedder import STEmbedder, bf16_passages
    from retrieval.kb_folder import KBFolder

    records = KBFolder.of(a.kb).index.read_records()
    units = [*records.article_units, *records.case_units]
    if a.limit:
        units = units[:: max(1, len(units) // a.limit)]
    distinct = len({u.text for u in units})
    print(f"{distinct} distinct unit texts; passages in bf16: {bf16_passages()}", flush=True)
    emb = STEmbedder()
    with tempfile.TemporaryDirectory() as scratch:
        t0 = time.perf_counter()
        embed_units(units, emb, EmbeddingCache(Path(scratch), emb.key), show_progress=True)
        spent = time.perf_counter() - t0
    print(
        f"re-embedded {distinct} units in {spent / 60:.2f} min, {distinct / spent:.1f} units/s; "
        f"compiled encoder: {emb.passages_compiled}"
    )


if __name__ == "__main__":
    main()
