"""The query adapter: deltas applied once into a digest-named folder, switched off by env."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.encoders import adapter
from retrieval.errors import ModelError

safetensors_numpy = pytest.importorskip("safetensors.numpy")


@pytest.fixture
def base_dir(tmp_path):
    d = tmp_path / "models" / "e5-test"
    d.mkdir(parents=True)
    safetensors_numpy.save_file(
        {
            "encoder.layer.1.w": np.ones((2, 3), np.float32),
            "encoder.layer.0.w": np.full((2, 3), 5.0, np.float32),
        },
        str(d / "model.safetensors"),
    )
    (d / "config.json").write_text('{"hidden_size": 3}')
    (d / "1_Pooling").mkdir()
    (d / "1_Pooling" / "config.json").write_text("{}")
    return d


def write_adapter(path, delta):
    safetensors_numpy.save_file({"encoder.layer.1.w": delta.astype(np.float16)}, str(path))
    return path


def test_adapter_deltas_are_added_to_the_base_weights(base_dir, tmp_path):
    a = write_adapter(tmp_path / "a.safetensors", np.full((2, 3), 0.5))
    out = adapter.adapted_dir(base_dir, a)
    w = safetensors_numpy.load_file(str(out / "model.safetensors"))
    assert np.allclose(w["encoder.layer.1.w"], 1.5) and np.allclose(w["encoder.layer.0.w"], 5.0)
    assert (out / "config.json").read_text() == '{"hidden_size": 3}'
    assert (out / "1_Pooling" / "config.json").exists()
    # the base folder is untouched, and a new adapter gets its own folder
    base = safetensors_numpy.load_file(str(base_dir / "model.safetensors"))
    assert np.allclose(base["encoder.layer.1.w"], 1.0)
    b = write_adapter(tmp_path / "b.safetensors", np.full((2, 3), -1.0))
    assert adapter.adapted_dir(base_dir, b) != out
    assert {p.name for p in base_dir.parent.iterdir()} == {
        base_dir.name,
        out.name,
        adapter.adapted_dir(base_dir, b).name,
    }


def test_export_keeps_the_adapted_layers_out_of_4_bit(base_dir, tmp_path, monkeypatch):
    from retrieval.encoders import onnx_query

    def fake_export(model_dir, out, onnx_file):
        np.save(out / onnx_query.WORD_EMBEDDINGS, np.zeros((3, 4), np.float32))
        onnx_file.write_bytes(b"onnx")

    kept = {}

    def fake_quantize(src, dst, accuracy_level, keep_layers=()):
        kept[dst.parent.name] = list(keep_layers)
        dst.write_bytes(b"q4")

    monkeypatch.setattr(onnx_query, "_export_fp32", fake_export)
    monkeypatch.setattr(onnx_query, "_quantize_q4", fake_quantize)
    out = adapter.adapted_dir(base_dir, write_adapter(tmp_path / "a.safetensors", np.ones((2, 3))))
    assert adapter.adapted_layers(out) == [1] and adapter.adapted_layers(base_dir) == []
    onnx_query.export_onnx(out)
    onnx_query.export_onnx(base_dir)
    assert sorted(kept.values()) == [[], [1]]


def test_adapter_of_another_shape_is_refused(base_dir, tmp_path):
    a = write_adapter(tmp_path / "a.safetensors", np.zeros((3, 3)))
    with pytest.raises(ModelError, match="FENGQIAO_MODEL=base"):
        adapter.adapted_dir(base_dir, a)
    assert [p.name for p in base_dir.parent.iterdir()] == [base_dir.name]


def test_base_switch_turns_the_adapter_off(tmp_path, monkeypatch):
    a = write_adapter(tmp_path / "a.safetensors", np.zeros((2, 3)))
    monkeypatch.delenv(adapter.MODEL_ENV, raising=False)
    assert adapter.shipped_adapter(a) == a
    monkeypatch.setenv(adapter.MODEL_ENV, "base")
    assert adapter.shipped_adapter(a) is None
    monkeypatch.setenv(adapter.MODEL_ENV, "bert")
    with pytest.raises(ModelError, match="adapted"):
        adapter.shipped_adapter(a)


@pytest.mark.slow
def test_shipped_adapter_moves_article_questions_only(monkeypatch):
    """The file in git loads, names itself in ``query_key``, and changes only the question
    vector searched against articles: the case-side vector (precedent and similar-case
    floors) and passages stay the base model's."""
    from retrieval.encoders.embedder import STEmbedder

    assert adapter.ADAPTER_FILE.is_file(), "models/e5-query-adapter.safetensors is shipped"
    assert adapter.ADAPTER_FILE.stat().st_size <= 16 * 2**20
    monkeypatch.delenv(adapter.MODEL_ENV, raising=False)
    adapted = STEmbedder(query_engine="st")
    monkeypatch.setenv(adapter.MODEL_ENV, "base")
    base = STEmbedder(query_engine="st")
    # passages (and so every built index) stay the base model's; questions do not
    assert adapted.key == base.key and base.query_key == base.key
    assert adapted.query_key == f"{base.key}-qa-{adapter.adapter_digest(adapter.ADAPTER_FILE)}"
    q = ["公司拖欠我三个月工资，我能不能辞职还要经济补偿？"]
    va, vb = adapted.encode_article_queries(q)[0], base.encode_queries(q)[0]
    assert np.linalg.norm(va) == pytest.approx(1.0, abs=1e-4)
    assert 0.5 < float(va @ vb) < 0.999
    assert np.allclose(adapted.encode_queries(q), vb, atol=1e-6)
    assert np.allclose(base.encode_article_queries(q), vb, atol=1e-6)
    p = ["用人单位未及时足额支付劳动报酬的，劳动者可以解除劳动合同。"]
    assert np.allclose(adapted.encode_passages(p), base.encode_passages(p), atol=1e-6)
    # the default engine, exported from the adapted folder (its layer in fp32), gives the
    # torch vectors on both sides; passages go through the base export
    monkeypatch.delenv(adapter.MODEL_ENV)
    onnx = STEmbedder(query_engine="onnx")
    onnx.prepare_query_engine()
    assert onnx.query_engine == "onnx" and onnx.query_key == adapted.query_key
    assert float(onnx.encode_article_queries(q)[0] @ va) > 0.9999
    assert float(onnx.encode_queries(q)[0] @ vb) > 0.9999
    assert float(onnx.encode_passages(p)[0] @ base.encode_passages(p)[0]) > 0.9999
