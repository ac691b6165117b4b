"""The query adapter: deltas applied once into a digest-named folder, switched off by env."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval import adapter
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
