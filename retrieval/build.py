"""Build a knowledge-base index folder from statute and case sources, resumably and atomically."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ingest.records import Article, Case, IngestReport, Problem
from retrieval import vocab
from retrieval.bm25 import BM25Index
from retrieval.dense import DenseIndex
from retrieval.embcache import EmbeddingCache, text_hash
from retrieval.embedder import Embedder, load_embedder
from retrieval.errors import BuildError
from retrieval.manifest import (
    FORMAT_VERSION,
    MANIFEST,
    corpus_checksum,
    make_manifest,
    read_manifest,
    write_manifest,
)
from retrieval.tokenizer import JiebaTokenizer
from retrieval.units import MAX_TOKENS, Unit, article_units, case_units

log = logging.getLogger(__name__)

INDEX = "index"
GROUP = 256  # texts per checkpoint: a killed build loses at most one group of work


@dataclass
class BuildReport:
    """What a build did: counts, reuse, time, and every input problem found."""

    index_dir: Path
    articles: int = 0
    laws: int = 0
    cases: int = 0
    units: int = 0
    embedded: int = 0  # vectors computed now
    reused: int = 0  # vectors taken from the embedding cache
    seconds: float = 0.0
    up_to_date: bool = False  # nothing changed: the existing index was kept
    statutes: tuple[str, ...] = ()
    case_sources: tuple[str, ...] = ()
    model: str = ""
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.up_to_date:
            return f"知识库已是最新（{self.articles} 条法条，{self.cases} 个案例），用时 {self.seconds:.1f} 秒"
        return (
            f"已构建知识库：{self.laws} 部法律法规，{self.articles} 条法条，{self.cases} 个案例，"
            f"新计算向量 {self.embedded} 个、复用 {self.reused} 个，用时 {self.seconds:.1f} 秒"
        )


def index_dir(kb_dir: Path) -> Path:
    return Path(kb_dir) / INDEX


def _sources(
    kb_dir: Path, statutes: Sequence[Path], cases: Sequence[Path]
) -> tuple[list[Path], list[Path]]:
    """Given sources, else those remembered by the current index; drop-in always added."""
    st, cs = [Path(p) for p in statutes], [Path(p) for p in cases]
    if not st and not cs and (index_dir(kb_dir) / MANIFEST).exists():
        try:
            remembered = read_manifest(index_dir(kb_dir)).get("sources", {})
            st = [Path(p) for p in remembered.get("statutes", [])]
            cs = [Path(p) for p in remembered.get("cases", [])]
        except Exception as e:  # an unreadable old index only means nothing is remembered
            log.warning("cannot read remembered sources: %s", e)
    drop = Path(kb_dir) / "drop-in"
    if drop.is_dir() and drop.resolve() not in {p.resolve() for p in st}:
        st.append(drop)
    return st, cs


def _load_articles(
    dirs: Sequence[Path], cache: Path, report: BuildReport, show_progress: bool
) -> tuple[list[Article], list[Any]]:
    from ingest.statutes import load_statutes

    load = load_statutes(dirs, cache_dir=cache, show_progress=show_progress)
    report.problems.extend(load.report.problems)
    report.notes.extend(load.report.notes)
    report.notes.append(load.changes.summary())
    return load.articles, list(load.documents)


def _load_cases(
    paths: Sequence[Path],
    articles: Sequence[Article],
    cache: Path,
    report: BuildReport,
    show_progress: bool,
) -> list[Case]:
    if not paths:
        return []
    try:
        from ingest.cases import link_cases, load_cases
    except ImportError as e:
        raise BuildError(
            "案例导入模块不可用，无法读取案例", "先不带 --cases 构建，或更新程序"
        ) from e
    rep = IngestReport()
    cases = load_cases(paths, report=rep, show_progress=show_progress, cache_dir=cache)
    cases, link = link_cases(cases, articles)
    report.problems.extend(rep.problems)
    report.notes.extend(rep.notes)
    report.notes.extend(link.lines())
    return list(cases)


def embed_units(
    units: Sequence[Unit],
    embedder: Embedder,
    cache: EmbeddingCache,
    *,
    batch_size: int = 32,
    group: int = GROUP,
    show_progress: bool = False,
    report: BuildReport | None = None,
) -> np.ndarray:
    """Vectors for ``units``: cached ones reused, the rest encoded in length-sorted groups.

    Each group is saved to the cache as soon as it is encoded (the checkpoint).
    """
    keys = [text_hash(u.text) for u in units]
    todo: dict[str, str] = {}
    for k, u in zip(keys, units, strict=True):
        if not cache.has(k):
            todo.setdefault(k, u.text)
    # sorting by length keeps padding waste low; the hash breaks ties deterministically
    order = sorted(todo, key=lambda k: (len(todo[k]), k))
    bar = tqdm(total=len(order), desc="向量化", unit="段", disable=not show_progress or not order)
    for i in range(0, len(order), group):
        batch_keys = order[i : i + group]
        vecs = embedder.encode_passages([todo[k] for k in batch_keys], batch_size=batch_size)
        cache.add(batch_keys, vecs)
        bar.update(len(batch_keys))
    bar.close()
    if report is not None:
        report.embedded += len(order)
        report.reused += len(set(keys)) - len(order)
    if not units:
        return np.zeros((0, embedder.dim), np.float32)
    return np.stack([cache.get(k) for k in keys]).astype(np.float32)  # type: ignore[misc]


def _write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def swap_in(new: Path, final: Path) -> None:
    """Replace ``final`` by ``new``; the old index stays usable until the new one is whole."""
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)


def build_kb(
    kb_dir: Path,
    *,
    statutes: Sequence[Path] = (),
    cases: Sequence[Path] = (),
    model: str | None = None,
    show_progress: bool = False,
    embedder: Embedder | None = None,
    batch_size: int = 32,
    max_tokens: int = MAX_TOKENS,
    case_records: Sequence[Case] = (),
) -> BuildReport:
    """Build (or refresh) ``kb_dir/index`` from statute folders and case files.

    Sources used are remembered in the manifest: a rebuild with no sources reuses
    them; ``kb_dir/drop-in`` is always included. Vectors are cached by (model,
    text hash), so a rebuild with nothing changed takes seconds and a killed build
    resumes where it stopped. The new index is written beside the old one and
    swapped in at the end.

    Args:
        kb_dir: the knowledge-base folder.
        statutes: statute folders or files.
        cases: case folders or files (optional).
        model: sentence-transformers model name or path; None = the built-in e5.
        show_progress: tqdm bars for parsing and embedding.
        embedder: an already loaded embedder (tests pass a fake one).
        batch_size: passages per forward pass.
        max_tokens: articles longer than this are split by 款.
        case_records: already loaded cases added to those read from ``cases``.
    """
    t0 = time.perf_counter()
    kb_dir = Path(kb_dir)
    kb_dir.mkdir(parents=True, exist_ok=True)
    st_dirs, case_paths = _sources(kb_dir, statutes, cases)
    report = BuildReport(
        index_dir=index_dir(kb_dir),
        statutes=tuple(map(str, st_dirs)),
        case_sources=tuple(map(str, case_paths)),
    )
    if not st_dirs:
        raise BuildError(
            "没有指定法规来源，知识库里也没有记住的来源",
            "运行 fengqiao build --statutes 法规文件夹",
        )

    articles, documents = _load_articles(st_dirs, kb_dir / "cache", report, show_progress)
    if not articles:
        where = "、".join(map(str, st_dirs))
        raise BuildError(
            f"在 {where} 中没有找到任何法条", "检查文件夹路径，或放入 LawRefBook 格式的法规文件"
        )
    case_list = _load_cases(case_paths, articles, kb_dir / "cache", report, show_progress) + list(
        case_records
    )
    emb = embedder or load_embedder(model, show_progress=show_progress)
    report.model = emb.name
    tokenizer = JiebaTokenizer().with_words(
        sorted({a.law for a in articles if len(a.law) <= 12}) + list(vocab.terms())
    )

    checksum = corpus_checksum(
        [json.dumps(a.to_dict(), ensure_ascii=False, sort_keys=True) for a in articles]
        + [json.dumps(c.to_dict(), ensure_ascii=False, sort_keys=True) for c in case_list]
        + [tokenizer.digest, emb.key, str(max_tokens), str(FORMAT_VERSION)]
    )
    report.articles, report.cases = len(articles), len(case_list)
    report.laws = len({a.law for a in articles if a.current})
    final = index_dir(kb_dir)
    if (final / MANIFEST).exists():
        try:
            old = read_manifest(final)
            if (
                old.get("corpus", {}).get("checksum") == checksum
                and old.get("sources", {}).get("statutes") == list(report.statutes)
                and old.get("sources", {}).get("cases") == list(report.case_sources)
            ):
                report.up_to_date = True
                report.units = old.get("corpus", {}).get("units", 0)
                report.seconds = time.perf_counter() - t0
                return report
        except Exception as e:  # an old or broken index is simply rebuilt
            log.info("existing index not reusable: %s", e)

    count = _token_counter(emb)
    a_units = article_units(articles, count, max_tokens)
    c_units = case_units(case_list)
    report.units = len(a_units) + len(c_units)
    cache = EmbeddingCache(kb_dir / "cache" / "embeddings", emb.key)
    vecs = embed_units(
        [*a_units, *c_units],
        emb,
        cache,
        batch_size=batch_size,
        show_progress=show_progress,
        report=report,
    )
    cache.compact()

    tmp = kb_dir / f".index-new-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    _write_jsonl(tmp / "articles.jsonl", [a.to_dict() for a in articles])
    _write_jsonl(tmp / "cases.jsonl", [c.to_dict() for c in case_list])
    _write_jsonl(tmp / "article_units.jsonl", [u.to_dict() for u in a_units])
    _write_jsonl(tmp / "case_units.jsonl", [u.to_dict() for u in c_units])
    (tmp / "documents.json").write_text(
        json.dumps([_doc_dict(d) for d in documents], ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    DenseIndex(vecs[: len(a_units)]).save(tmp / "articles.faiss")
    DenseIndex(vecs[len(a_units) :]).save(tmp / "cases.faiss")
    BM25Index().index(tokenizer.tokenize_many(u.keywords for u in a_units)).save(
        tmp / "bm25_articles"
    )
    BM25Index().index(tokenizer.tokenize_many(u.keywords for u in c_units)).save(tmp / "bm25_cases")
    tokenizer.save(tmp / "tokenizer")
    manifest = make_manifest(
        model={"name": emb.name, "key": emb.key, "dim": emb.dim},
        tokenizer={**tokenizer.settings(), "digest": tokenizer.digest},
        chunking={"max_tokens": max_tokens, "by": "款"},
        corpus={
            "checksum": checksum,
            "articles": len(articles),
            "current_articles": sum(a.current for a in articles),
            "laws": report.laws,
            "cases": len(case_list),
            "units": report.units,
            "article_units": len(a_units),
            "case_units": len(c_units),
        },
        sources={"statutes": list(report.statutes), "cases": list(report.case_sources)},
    )
    write_manifest(tmp, manifest)
    swap_in(tmp, final)
    report.seconds = time.perf_counter() - t0
    log.info("%s", report.summary())
    return report


def _token_counter(emb: Embedder) -> Any:
    def count(text: str) -> int:
        # up to 300 characters never exceed the limit: skip the tokenizer for most articles
        return len(text) if len(text) <= 300 else emb.count_tokens(text)

    return count


def _doc_dict(d: Any) -> dict[str, Any]:
    out = asdict(d) if hasattr(d, "__dataclass_fields__") else dict(d)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in out.items()}
