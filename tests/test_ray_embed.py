"""Distributed embedding with Ray Data on this machine: vectors land in the embedding cache,
equal to a local build's, and a second run only embeds what the first did not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, FakeEmbedder

pytest.importorskip("ray")

from retrieval.encoders.embcache import EmbeddingCache, text_hash  # noqa: E402
from retrieval.encoders.ray_embed import PACKAGE_ROOT, embed_with_ray  # noqa: E402

pytestmark = pytest.mark.slow

TEXTS = [
    f"第{i}号案例：邻居{'装修' if i % 2 else '漏水'}引起纠纷，双方协商赔偿{i}元" for i in range(48)
]
ENV = {"env_vars": {"PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}}


def test_workers_import_from_the_repository_root() -> None:
    # a local cluster's workers get PYTHONPATH=PACKAGE_ROOT: it must hold the packages
    assert PACKAGE_ROOT == REPO
    assert (PACKAGE_ROOT / "retrieval" / "encoders" / "ray_embed.py").is_file()


def test_ray_fills_the_cache_and_resumes(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "emb", FakeEmbedder.key)
    first = embed_with_ray(
        TEXTS[:30],
        cache,
        embedder_factory=FakeEmbedder,
        num_cpus=2,
        actors=2,
        batch_size=8,
        group=10,
        runtime_env=ENV,
    )
    assert (first.embedded, first.reused, first.actors) == (30, 0, 2)
    assert len(list(cache.folder.glob("shard-*.npz"))) == 3  # one shard per group: checkpoints
    again = EmbeddingCache(tmp_path / "emb", FakeEmbedder.key)  # as a new build would read it
    second = embed_with_ray(
        TEXTS + TEXTS[:5],
        again,
        embedder_factory=FakeEmbedder,
        num_cpus=2,
        batch_size=8,
        group=10,
        runtime_env=ENV,
    )
    assert (second.embedded, second.reused) == (18, 30)
    want = FakeEmbedder().encode_passages(TEXTS)
    got = np.stack(
        [EmbeddingCache(tmp_path / "emb", FakeEmbedder.key).get(text_hash(t)) for t in TEXTS]
    )
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert (
        embed_with_ray(TEXTS, again, embedder_factory=FakeEmbedder).embedded == 0
    )  # no Ray needed


SLOW_JOB = """
import sys, time
sys.path[:0] = {paths!r}
from conftest import FakeEmbedder
from retrieval.encoders.embcache import EmbeddingCache
from retrieval.encoders.ray_embed import embed_with_ray

class Slow(FakeEmbedder):
    def encode_passages(self, texts, **kw):
        time.sleep(0.5)
        return super().encode_passages(texts)

texts = [f"文本{{i}} 拖欠工资 加班费" for i in range(400)]
embed_with_ray(texts, EmbeddingCache({root!r}, FakeEmbedder.key), embedder_factory=Slow,
               num_cpus=2, actors=1, batch_size=10, group=20, runtime_env={env!r})
"""


def test_a_killed_run_keeps_its_shards(tmp_path: Path) -> None:
    root = tmp_path / "emb"
    script = SLOW_JOB.format(paths=[str(REPO), str(REPO / "tests")], root=str(root), env=ENV)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(list(root.glob("*/shard-*.npz"))) < 2:
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the job and the Ray processes it started
        proc.wait()
    cache = EmbeddingCache(root, FakeEmbedder.key)
    kept = len(cache)
    assert 40 <= kept < 400
    texts = [f"文本{i} 拖欠工资 加班费" for i in range(400)]
    rest = embed_with_ray(texts, cache, embedder_factory=FakeEmbedder, num_cpus=2, runtime_env=ENV)
    assert (rest.reused, rest.embedded) == (kept, 400 - kept)
