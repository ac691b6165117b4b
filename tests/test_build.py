"""Building: up-to-date rebuilds, resume after a crash, atomic swap, remembered sources, drop-in."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, FakeEmbedder, fixture_cases

from retrieval.build import build_kb, embed_units
from retrieval.dense import DenseIndex
from retrieval.encoders.embcache import EmbeddingCache
from retrieval.errors import BuildError
from retrieval.index_folder import IndexFolder
from retrieval.service import Service
from retrieval.units import Unit


def read_manifest(folder):
    return IndexFolder(folder).manifest()


class Crashing(FakeEmbedder):
    """Dies after encoding ``limit`` passages, like a build killed mid-way."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def encode_passages(self, texts, *, batch_size=32, show_progress=False):
        if self.calls + len(texts) > self.limit:
            raise KeyboardInterrupt("killed")
        return super().encode_passages(texts)


def _units(n: int) -> list[Unit]:
    return [
        Unit(f"u{i}", f"p{i}", "article", f"第{i}条 内容" + "字" * (i % 7), "") for i in range(n)
    ]


def test_resumed_embedding_equals_uninterrupted(tmp_path):
    units = _units(30)
    clean = embed_units(units, FakeEmbedder(), EmbeddingCache(tmp_path / "a", "m"), group=4)
    cache = EmbeddingCache(tmp_path / "b", "m")
    with pytest.raises(KeyboardInterrupt):
        embed_units(units, Crashing(limit=10), cache, group=4)
    assert len(EmbeddingCache(tmp_path / "b", "m")) == 8  # two whole groups were checkpointed
    again = FakeEmbedder()
    resumed = embed_units(units, again, EmbeddingCache(tmp_path / "b", "m"), group=4)
    assert again.calls == 22
    assert again.prepared == [22]  # a resumed build announces what is left, not the whole
    np.testing.assert_array_equal(resumed, clean)


def test_rebuild_with_nothing_changed_is_up_to_date(tmp_path):
    fake = FakeEmbedder()
    first = build_kb(tmp_path, statutes=[DATA / "statutes"], embedder=fake)
    assert not first.up_to_date and first.embedded == first.units and first.articles == 29
    calls = fake.calls
    again = build_kb(tmp_path, embedder=fake)  # sources remembered
    assert again.up_to_date and fake.calls == calls
    assert again.statutes == first.statutes
    assert "已是最新" in again.summary()


def test_crashed_build_keeps_old_index_and_resumes(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(DATA / "statutes", src)
    build_kb(tmp_path / "kb", statutes=[src], embedder=FakeEmbedder())
    before = read_manifest(tmp_path / "kb" / "index")
    # a changed law: its articles must be embedded again, and the embedder dies
    law = src / "社会法" / "劳动合同法(2012-12-28).md"
    law.write_text(law.read_text().replace("劳动者", "劳动者本人"))
    with pytest.raises(KeyboardInterrupt):
        build_kb(tmp_path / "kb", statutes=[src], embedder=Crashing(limit=0))
    assert read_manifest(tmp_path / "kb" / "index") == before  # previous index still in place
    Service.load(tmp_path / "kb", embedder=FakeEmbedder())
    resumed = build_kb(tmp_path / "kb", statutes=[src], embedder=FakeEmbedder())
    assert 0 < resumed.embedded < resumed.units
    clean = build_kb(tmp_path / "clean", statutes=[src], embedder=FakeEmbedder())
    a = DenseIndex.load(tmp_path / "kb" / "index" / "articles.faiss").vectors
    b = DenseIndex.load(tmp_path / "clean" / "index" / "articles.faiss").vectors
    np.testing.assert_array_equal(a, b)
    for f in ("articles.jsonl", "article_units.jsonl"):
        assert (tmp_path / "kb" / "index" / f).read_text() == (
            tmp_path / "clean" / "index" / f
        ).read_text()
    assert clean.embedded == clean.units


def test_drop_in_is_always_included(tmp_path):
    drop = tmp_path / "drop-in"
    drop.mkdir()
    shutil.copy(DATA / "statutes" / "社会法" / "劳动合同法(2012-12-28).md", drop / "劳动合同法.md")
    rep = build_kb(tmp_path, statutes=[DATA / "statutes" / "民法典"], embedder=FakeEmbedder())
    assert rep.dropin_statutes == ("劳动合同法.md",)
    assert str(drop) not in rep.statutes  # drop-in is never remembered as a source path
    kb = Service.load(tmp_path, embedder=FakeEmbedder())
    assert kb.lookup("劳动合同法", "38") is not None


def test_no_articles_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BuildError) as e:
        build_kb(tmp_path / "kb", statutes=[empty], embedder=FakeEmbedder())
    assert "没有找到任何法条" in e.value.message and e.value.hint
    with pytest.raises(BuildError):
        build_kb(tmp_path / "kb2", embedder=FakeEmbedder())


def test_cases_are_saved_and_round_trip(tiny_kb_dir):
    kb = Service.load(tiny_kb_dir, embedder=FakeEmbedder())
    assert kb.case("case-noise") == fixture_cases()[0]
    assert kb.manifest["corpus"]["cases"] == 3 and kb.manifest["model"]["name"] == "fake-chars"
    assert set(kb.manifest) >= {
        "format",
        "format_version",
        "model",
        "tokenizer",
        "corpus",
        "created",
        "versions",
        "sources",
    }


_BUILD_SCRIPT = """
import functools, json, sys, time
from pathlib import Path
sys.path[:0] = [sys.argv[3], sys.argv[4]]
from conftest import DATA, FakeEmbedder
import retrieval.build as build

class Slow(FakeEmbedder):
    def encode_passages(self, texts, **kw):
        time.sleep(0.2)
        return super().encode_passages(texts)

build.embed_units = functools.partial(build.embed_units, group=4)  # a checkpoint every 4
emb = Slow() if sys.argv[2] == "slow" else FakeEmbedder()
rep = build.build_kb(Path(sys.argv[1]), statutes=[DATA / "statutes"], embedder=emb)
print(json.dumps({"embedded": rep.embedded, "reused": rep.reused, "units": rep.units}))
"""


def test_build_killed_mid_way_resumes_to_the_same_index(tmp_path):
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import REPO

    script = tmp_path / "build.py"
    script.write_text(_BUILD_SCRIPT, encoding="utf-8")
    tests = str(REPO / "tests")

    def run(kb, mode):
        return [sys.executable, str(script), str(kb), mode, str(REPO), tests]

    proc = subprocess.Popen(run(tmp_path / "kb", "slow"))
    shards = tmp_path / "kb" / "cache" / "embeddings"
    deadline = time.monotonic() + 60
    while len(list(shards.rglob("shard-*.npz"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up
    proc.wait()
    assert not (tmp_path / "kb" / "index").exists()  # nothing half-written took its place

    out = subprocess.run(run(tmp_path / "kb", "fast"), capture_output=True, text=True, check=True)
    resumed = json.loads(out.stdout.strip().splitlines()[-1])
    assert resumed["reused"] >= 8 and resumed["embedded"] + resumed["reused"] == resumed["units"]
    subprocess.run(run(tmp_path / "clean", "fast"), capture_output=True, check=True)
    for f in ("articles.faiss", "cases.faiss"):
        a = DenseIndex.load(tmp_path / "kb" / "index" / f).vectors
        b = DenseIndex.load(tmp_path / "clean" / "index" / f).vectors
        np.testing.assert_array_equal(a, b)
    for f in ("articles.jsonl", "article_units.jsonl"):
        assert (tmp_path / "kb" / "index" / f).read_text(encoding="utf-8") == (
            tmp_path / "clean" / "index" / f
        ).read_text(encoding="utf-8")


def test_sources_are_remembered_absolute_and_work_from_any_folder(tmp_path, monkeypatch):
    src = tmp_path / "src"
    shutil.copytree(DATA / "statutes", src)
    monkeypatch.chdir(tmp_path)
    first = build_kb(Path("kb"), statutes=[Path("src")], embedder=FakeEmbedder())
    assert first.statutes == (str(src.resolve()),)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = build_kb(tmp_path / "kb", embedder=FakeEmbedder())
    assert again.up_to_date and again.articles == first.articles


def test_missing_remembered_source_stops_and_keeps_the_index(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(DATA / "statutes", src)
    build_kb(tmp_path / "kb", statutes=[src], embedder=FakeEmbedder())
    before = read_manifest(tmp_path / "kb" / "index")
    shutil.rmtree(src)
    with pytest.raises(BuildError) as e:
        build_kb(tmp_path / "kb", embedder=FakeEmbedder())
    assert "来源不存在" in e.value.message and str(src) in e.value.message
    assert read_manifest(tmp_path / "kb" / "index") == before


def test_a_build_that_would_drop_most_articles_needs_force(tmp_path):
    build_kb(tmp_path / "kb", statutes=[DATA / "statutes"], embedder=FakeEmbedder())
    before = read_manifest(tmp_path / "kb" / "index")
    small = DATA / "statutes" / "社会法"
    with pytest.raises(BuildError) as e:
        build_kb(tmp_path / "kb", statutes=[small], embedder=FakeEmbedder())
    assert "--force" in e.value.hint and read_manifest(tmp_path / "kb" / "index") == before
    rep = build_kb(tmp_path / "kb", statutes=[small], embedder=FakeEmbedder(), force=True)
    assert rep.articles < before["corpus"]["articles"]


def test_a_copied_knowledge_base_reads_its_own_drop_in(tmp_path):
    build_kb(tmp_path / "a", statutes=[DATA / "statutes"], embedder=FakeEmbedder())
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    drop = tmp_path / "b" / "drop-in"
    drop.mkdir()
    (drop / "村规.md").write_text(
        "# 某村村规民约\n\n<!-- INFO END -->\n\n第一条 村民不得占用公共通道。\n", encoding="utf-8"
    )
    build_kb(tmp_path / "b", embedder=FakeEmbedder())
    assert Service.load(tmp_path / "b", embedder=FakeEmbedder()).lookup("某村村规民约", "1")
    assert not (tmp_path / "a" / "drop-in").exists()
    assert Service.load(tmp_path / "a", embedder=FakeEmbedder()).lookup("某村村规民约", "1") is None


def test_one_build_at_a_time_and_orphans_are_cleaned(tmp_path):
    from retrieval.index_folder import build_lock

    kb = tmp_path / "kb"
    (kb / ".index-new-99999").mkdir(parents=True)  # left by a build killed in its write phase
    with build_lock(kb), pytest.raises(BuildError) as e:
        build_kb(kb, statutes=[DATA / "statutes"], embedder=FakeEmbedder())
    assert "另一个构建" in e.value.message
    build_kb(kb, statutes=[DATA / "statutes"], embedder=FakeEmbedder())
    assert not (kb / ".index-new-99999").exists()
    assert not list(kb.glob(".index-new-*"))


def test_a_build_in_another_process_holds_the_lock(tmp_path):
    import subprocess
    import sys
    import time

    from conftest import REPO

    kb = tmp_path / "kb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; sys.path.insert(0, sys.argv[1]);"
            "from pathlib import Path; from retrieval.index_folder import build_lock\n"
            "with build_lock(Path(sys.argv[2])):\n print('held', flush=True); time.sleep(30)",
            str(REPO),
            str(kb),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(BuildError, match="另一个构建"):
            build_kb(kb, statutes=[DATA / "statutes"], embedder=FakeEmbedder())
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert build_kb(kb, statutes=[DATA / "statutes"], embedder=FakeEmbedder()).articles == 29


class OtherModel(FakeEmbedder):
    """Another model: its vectors are keyed apart from FakeEmbedder's."""

    name = "other-model"
    key = "other-model-v1"


def test_a_change_of_model_re_embeds_everything_and_says_so(tmp_path):
    first = build_kb(tmp_path, statutes=[DATA / "statutes"], embedder=FakeEmbedder())
    assert not any("模型已更换" in n for n in first.notes)
    other = OtherModel()
    changed = build_kb(tmp_path, embedder=other)
    assert not changed.up_to_date and changed.reused == 0
    assert changed.embedded == changed.units == first.units
    (note,) = [n for n in changed.notes if "模型已更换" in n]
    assert "fake-chars → other-model" in note and f"全部 {first.units} 段" in note
    assert read_manifest(tmp_path / "index")["model"]["key"] == "other-model-v1"
    # back to the first model: its vectors were kept in the cache
    back = build_kb(tmp_path, embedder=FakeEmbedder())
    assert back.embedded == 0 and back.reused == first.units


class WantsExport(FakeEmbedder):
    """An embedder whose faster query engine is prepared by the build (the real one exports ONNX)."""

    prepared = 0

    def prepare_query_engine(self) -> None:
        WantsExport.prepared += 1


def test_every_build_prepares_the_query_engine_even_when_up_to_date(tmp_path):
    build_kb(tmp_path, statutes=[DATA / "statutes"], embedder=WantsExport())
    again = build_kb(tmp_path, embedder=WantsExport())
    assert again.up_to_date and WantsExport.prepared == 2
