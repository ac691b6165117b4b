"""Build a knowledge-base index folder from statute and case sources, resumably and atomically."""

from __future__ import annotations

import copy
import functools
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ingest.atomic import disk_full, remove_stale
from ingest.records import LABELLED, Article, Case, FileReport, IngestReport, Problem
from retrieval import vocab
from retrieval.bm25 import BM25Index
from retrieval.clauses import CLAUSES_VERSION, ClauseVectors
from retrieval.config import CHECKPOINT_GROUP, KEEP_SHARE, MAX_UNIT_TOKENS
from retrieval.corpus import article_rows, case_rows
from retrieval.encoders.embcache import EmbeddingCache, text_hash
from retrieval.encoders.embedder import Embedder, load_embedder
from retrieval.errors import BuildError, FengqiaoError
from retrieval.index_folder import (
    ARTICLE_BM25,
    ARTICLE_VECTORS,
    CASE_BM25,
    CASE_VECTORS,
    FORMAT_VERSION,
    TOKENIZER,
    IndexFolder,
    Records,
    build_lock,
    corpus_checksum,
    make_manifest,
    new_index,
    remembered_sources,
    remove_orphans,
    swap_in,
)
from retrieval.kb_folder import KBFolder
from retrieval.stores.flat import FlatStore
from retrieval.tokenizer import JiebaTokenizer
from retrieval.units import Unit, article_units, case_units, clause_units

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What a build did: counts, reuse, time, and every input problem found."""

    index_dir: Path
    articles: int = 0
    laws: int = 0
    cases: int = 0  # cases a user can see (labelled questions not counted)
    questions: int = 0  # labelled questions kept as precedent evidence
    units: int = 0
    embedded: int = 0  # vectors computed now
    reused: int = 0  # vectors taken from the embedding cache
    seconds: float = 0.0
    up_to_date: bool = False  # nothing changed: the existing index was kept
    statutes: tuple[str, ...] = ()
    case_sources: tuple[str, ...] = ()
    dropin_statutes: tuple[str, ...] = ()  # drop-in files read as statute text
    dropin_cases: tuple[str, ...] = ()  # drop-in files read as mediation records
    model: str = ""
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)  # lines read, rows imported, rejected

    def file_report(self, path: Path) -> FileReport | None:
        """The import report of one source file (None when it was not read)."""
        return next((f for f in self.files if Path(f.path) == Path(path)), None)

    def summary(self) -> str:
        questions = f"，{self.questions} 个标注问题" if self.questions else ""
        if self.up_to_date:
            return (
                f"知识库已是最新（{self.articles} 条法条，{self.cases} 个案例{questions}），"
                f"用时 {self.seconds:.1f} 秒"
            )
        return (
            f"已构建知识库：{self.laws} 部法律法规，{self.articles} 条法条，{self.cases} 个案例"
            f"{questions}，新计算向量 {self.embedded} 个、复用 {self.reused} 个，"
            f"用时 {self.seconds:.1f} 秒"
        )


@dataclass(frozen=True)
class Sources:
    """Where a build reads from: remembered sources (absolute) plus the drop-in files, routed."""

    statutes: tuple[Path, ...]
    cases: tuple[Path, ...]
    dropin_statutes: tuple[Path, ...] = ()
    dropin_cases: tuple[Path, ...] = ()


def check_sources(
    kb_dir: Path, statutes: Sequence[Path] = (), cases: Sequence[Path] = ()
) -> tuple[list[Path], list[Path]]:
    """The statute and case sources a build of ``kb_dir`` reads (given, else remembered),
    drop-in aside; BuildError when one is missing, before anything is read or saved.

    An index installed with ``fengqiao fetch --index`` remembers the publisher's folders,
    which are not on this computer: it cannot be rebuilt here, so neither can a file be
    added to it (``add`` asks this before saving a file it could not bring in).
    """
    kb_dir = Path(kb_dir)
    given = bool(statutes or cases)
    st, cs = (list(statutes), list(cases)) if given else remembered_sources(kb_dir)
    drop = KBFolder(kb_dir).dropin.resolve()
    st = [p for p in st if Path(p).resolve() != drop]  # older manifests remembered drop-in
    for kind, paths in (("法规", st), ("案例", cs)):
        missing = [str(p) for p in paths if not Path(p).exists()]
        if missing:
            how = "指定的" if given else "知识库记住的"
            raise BuildError(
                f"{how}{kind}来源不存在：{'、'.join(missing)}（知识库未改动）",
                "检查路径，或用 --statutes/--cases 重新指定来源；预建索引（fetch --index）"
                "不带来源，要加入本机文件请用 fengqiao build --statutes 本机法规文件夹 重建"
                if not given
                else "检查路径拼写",
            )
    return [Path(p) for p in st], [Path(p) for p in cs]


def plan_sources(
    kb_dir: Path, statutes: Sequence[Path] = (), cases: Sequence[Path] = ()
) -> Sources:
    """Given sources, else the ones the live index remembers; every path absolute and present.

    The drop-in folder is always read, and always this knowledge base's own (it is never
    remembered as a path, so a copied knowledge base reads its copy). Its files are routed
    by ``ingest.route``: statute texts to the statute reader, record tables and mediation
    write-ups to the case reader.

    Raises:
        BuildError: a given or remembered source does not exist.
    """
    from ingest.route import split_files

    kb_dir = Path(kb_dir)
    st, cs = check_sources(kb_dir, statutes, cases)
    d_st, d_cs = split_files(KBFolder(kb_dir).dropin_files())
    return Sources(
        tuple(Path(p).resolve() for p in st),
        tuple(Path(p).resolve() for p in cs),
        tuple(d_st),
        tuple(d_cs),
    )


def _load_articles(
    paths: Sequence[Path], cache: Path, report: BuildReport, show_progress: bool
) -> list[Article]:
    from ingest.statutes import load_statutes

    load = load_statutes(paths, cache_dir=cache, show_progress=show_progress)
    report.problems.extend(load.report.problems)
    report.notes.extend(load.report.notes)
    report.files.extend(load.report.files)
    report.notes.append(load.changes.summary())
    return load.articles


def _load_cases(
    paths: Sequence[Path],
    articles: Sequence[Article],
    cache: Path,
    report: BuildReport,
    show_progress: bool,
) -> list[Case]:
    if not paths:
        return []
    from ingest.cases import link_cases, load_cases

    rep = IngestReport()
    cases = load_cases(paths, report=rep, show_progress=show_progress, cache_dir=cache)
    cases, link = link_cases(cases, articles)
    report.problems.extend(rep.problems)
    report.notes.extend(rep.notes)
    report.files.extend(rep.files)
    report.notes.extend(link.lines())
    return list(cases)


def embed_units(
    units: Sequence[Unit],
    embedder: Embedder,
    cache: EmbeddingCache,
    *,
    batch_size: int = 32,
    group: int = CHECKPOINT_GROUP,
    show_progress: bool = False,
    report: BuildReport | None = None,
    desc: str = "向量化",
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
    embedder.prepare_passages(len(order))
    bar = tqdm(total=len(order), desc=desc, unit="段", disable=not show_progress or not order)
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


def _shrinks(kb_dir: Path, articles: int, cases: int) -> str:
    """Why this build would lose most of the live knowledge base ("" when it would not).

    ``cases`` counts cases and labelled questions together, as the manifest does.
    """
    folder = IndexFolder.of(kb_dir)
    if not folder.exists:
        return ""
    try:
        old = folder.manifest().get("corpus", {})
    except Exception:  # an unreadable index has nothing to protect
        return ""
    for name, now, before in (
        ("法条", articles, int(old.get("articles", 0))),
        ("案例", cases, int(old.get("cases", 0)) + int(old.get("questions", 0))),
    ):
        if before and now < before * KEEP_SHARE:
            return f"这次构建只得到 {now} 条{name}，现有知识库有 {before} 条"
    return ""


def build_kb(
    kb_dir: Path,
    *,
    statutes: Sequence[Path] = (),
    cases: Sequence[Path] = (),
    model: str | None = None,
    show_progress: bool = False,
    embedder: Embedder | None = None,
    batch_size: int = 32,
    max_tokens: int = MAX_UNIT_TOKENS,
    case_records: Sequence[Case] = (),
    force: bool = False,
    device: str = "cpu",
    ray: str | None = None,
) -> BuildReport:
    """Build (or refresh) ``kb_dir/index`` from statute folders and case files.

    Sources used are remembered in the manifest as absolute paths: a rebuild with no
    sources reuses them; ``kb_dir/drop-in`` is always included, its files routed to the
    statute or the case reader. Vectors are cached by (model, text hash), so a rebuild
    with nothing changed takes seconds and a killed build resumes where it stopped. The
    new index is written beside the old one and swapped in at the end, under a lock.

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
        force: build even when the result would hold less than half of the live
            knowledge base's articles or cases (otherwise BuildError, nothing changed).
        device: where ``model`` encodes passages (``auto``: CUDA when torch sees one);
            recorded in the manifest, not part of the vectors' key.
        ray: embed the missing vectors on a Ray cluster (``head:6379``, ``ray://…``, or
            ``local`` for this machine) into the same embedding cache, then build as usual.
    """
    t0 = time.perf_counter()
    kb_dir = Path(kb_dir)
    kb_dir.mkdir(parents=True, exist_ok=True)
    with build_lock(kb_dir):
        for gone in [
            *remove_orphans(kb_dir),
            *remove_stale(kb_dir),
            *remove_stale(KBFolder(kb_dir).dropin),
        ]:
            log.info("removed %s left by an interrupted writer", gone)
        try:
            return _build(
                kb_dir,
                plan_sources(kb_dir, statutes, cases),
                t0=t0,
                model=model,
                show_progress=show_progress,
                embedder=embedder,
                batch_size=batch_size,
                max_tokens=max_tokens,
                case_records=case_records,
                force=force,
                device=device,
                ray=ray,
            )
        except (OSError, RuntimeError) as exc:  # faiss reports a failed write as RuntimeError
            if not disk_full(exc):
                raise
            raise BuildError(
                f"磁盘已满，新索引没有写完（{kb_dir}），已删除写了一半的文件；正在使用的知识库未改动",
                "腾出磁盘空间（至少与 index 文件夹一样大）后重新运行",
            ) from None


def _build(
    kb_dir: Path,
    src: Sources,
    *,
    t0: float,
    model: str | None,
    show_progress: bool,
    embedder: Embedder | None,
    batch_size: int,
    max_tokens: int,
    case_records: Sequence[Case],
    force: bool,
    device: str = "cpu",
    ray: str | None = None,
) -> BuildReport:
    final = IndexFolder(kb_dir / "index")
    report = BuildReport(
        index_dir=final.path,
        statutes=tuple(map(str, src.statutes)),
        case_sources=tuple(map(str, src.cases)),
        dropin_statutes=tuple(p.name for p in src.dropin_statutes),
        dropin_cases=tuple(p.name for p in src.dropin_cases),
    )
    statute_paths = [*src.statutes, *src.dropin_statutes]
    if not statute_paths:
        raise BuildError(
            "没有指定法规来源，知识库里也没有记住的来源",
            "运行 fengqiao build --statutes 法规文件夹",
        )
    for name in report.dropin_cases:
        report.notes.append(f"drop-in/{name}：按调解记录（案例）导入")
    articles = _load_articles(statute_paths, KBFolder(kb_dir).cache, report, show_progress)
    if not articles:
        where = "、".join(map(str, statute_paths))
        raise BuildError(
            f"在 {where} 中没有找到任何法条", "检查文件夹路径，或放入 LawRefBook 格式的法规文件"
        )
    case_list = _load_cases(
        [*src.cases, *src.dropin_cases], articles, KBFolder(kb_dir).cache, report, show_progress
    ) + list(case_records)
    report.questions = sum(c.kind == LABELLED for c in case_list)
    report.articles, report.cases = len(articles), len(case_list) - report.questions
    report.laws = len({a.law for a in articles if a.current})
    shrink = _shrinks(kb_dir, len(articles), len(case_list))
    if shrink and not force:
        raise BuildError(
            f"{shrink}，已停止，知识库未改动",
            "检查法规和案例来源是否齐全；确实要这样替换时加 --force",
        )
    emb = embedder or load_embedder(model, show_progress=show_progress, device=device)
    report.model = emb.name
    prepare = getattr(emb, "prepare_query_engine", None)  # the real model's; not a fake's
    if prepare is not None:
        prepare()
    query_key = str(getattr(emb, "query_key", emb.key))
    tokenizer = JiebaTokenizer().with_words(
        sorted({a.law for a in articles if len(a.law) <= 12}) + list(vocab.terms())
    )
    checksum = corpus_checksum(
        [json.dumps(a.to_dict(), ensure_ascii=False, sort_keys=True) for a in articles]
        + [json.dumps(c.to_dict(), ensure_ascii=False, sort_keys=True) for c in case_list]
        + [tokenizer.digest, emb.key, str(max_tokens), str(FORMAT_VERSION), CLAUSES_VERSION]
        # a new query adapter rewrites the manifest (the passage vectors come from the cache)
        + ([query_key] if query_key != emb.key else [])
    )
    if final.exists and _same(final, checksum, report):
        report.up_to_date = True
        report.units = final.manifest().get("corpus", {}).get("units", 0)
        report.seconds = time.perf_counter() - t0
        return report

    a_units = article_units(articles, _token_counter(emb), max_tokens)
    c_units = case_units(case_list)
    cl_units = clause_units(articles)
    report.units = len(a_units) + len(c_units) + len(cl_units)
    cache = EmbeddingCache(KBFolder(kb_dir).embeddings, emb.key)
    desc = "向量化"
    before = model_of(final)
    if before and before.get("key") != emb.key:
        # every vector is recomputed: say so before the long wait, not only after it
        desc = "向量化（模型已更换，全部重新计算，中断后再运行会接着算）"
        report.notes.append(
            f"模型已更换：{before.get('name', '?')} → {emb.name}，全部 {report.units} 段重新计算向量"
            "（旧模型的向量仍留在缓存中，换回旧模型时无需重算）"
        )
    if ray:
        _embed_on_ray(
            [*a_units, *c_units, *cl_units], emb, cache, ray, device, show_progress, report
        )
    vecs = embed_units(
        [*a_units, *c_units, *cl_units],
        emb,
        cache,
        batch_size=batch_size,
        show_progress=show_progress,
        report=report,
        desc=desc,
    )
    cache.compact()

    with new_index(kb_dir) as tmp:  # removed again if anything below fails
        tmp.write_records(Records(articles, case_list, a_units, c_units))
        for kind, rows, units, vectors, vec_file, bm25_file in (
            ("articles", article_rows(articles, a_units), a_units, vecs[: len(a_units)], ARTICLE_VECTORS, ARTICLE_BM25),
            ("cases", case_rows(case_list, c_units), c_units, vecs[len(a_units) : len(a_units) + len(c_units)], CASE_VECTORS, CASE_BM25),
        ):  # fmt: skip
            bm25 = BM25Index().index(tokenizer.tokenize_many(u.keywords for u in units))
            store = FlatStore(kind, emb.dim, rows, vectors, bm25)  # type: ignore[arg-type]
            store.save(tmp.file(vec_file), tmp.file(bm25_file))
        ClauseVectors(cl_units, vecs[len(a_units) + len(c_units) :]).save(tmp.path)
        tokenizer.save(tmp.file(TOKENIZER))
        tmp.write_manifest(
            make_manifest(
                model={
                    "name": emb.name,
                    "key": emb.key,
                    "query_key": query_key,
                    "dim": emb.dim,
                    **_device_of(emb),
                },
                tokenizer={**tokenizer.settings(), "digest": tokenizer.digest},
                chunking={"max_tokens": max_tokens, "by": "款", "clauses": CLAUSES_VERSION},
                corpus={
                    "checksum": checksum,
                    "articles": len(articles),
                    "current_articles": sum(a.current for a in articles),
                    "laws": report.laws,
                    "cases": report.cases,
                    "questions": report.questions,
                    "units": report.units,
                    "article_units": len(a_units),
                    "case_units": len(c_units),
                    "clause_units": len(cl_units),
                },
                sources={"statutes": list(report.statutes), "cases": list(report.case_sources)},
            )
        )
        swap_in(tmp, kb_dir)
    report.seconds = time.perf_counter() - t0
    log.info("%s", report.summary())
    return report


def model_of(folder: IndexFolder) -> dict[str, Any]:
    """The model section of the live index's manifest ({} when there is none to read)."""
    if not folder.exists:
        return {}
    try:
        return dict(folder.manifest().get("model", {}))
    except FengqiaoError:
        return {}


def _device_of(emb: Embedder) -> dict[str, str]:
    """The torch device the build's model encodes on, for the manifest (not the key)."""
    device = getattr(emb, "device", None)
    return {"device": device} if isinstance(device, str) else {}


def ray_factory(emb: Embedder, device: str) -> Callable[[], Embedder]:
    """How each Ray actor makes the build's embedder: the same model by name (its folder
    must be on every worker), or a copy of any other picklable embedder (tests' fake)."""
    from retrieval.encoders.embedder import STEmbedder

    if isinstance(emb, STEmbedder):
        return functools.partial(STEmbedder, emb.name, query_engine="st", device=device)
    return functools.partial(copy.deepcopy, emb)


def _embed_on_ray(
    units: Sequence[Unit],
    emb: Embedder,
    cache: EmbeddingCache,
    address: str,
    device: str,
    show_progress: bool,
    report: BuildReport,
) -> None:
    """Embed the units missing from ``cache`` on Ray; ``embed_units`` then finds them cached."""
    from retrieval.encoders.ray_embed import embed_with_ray

    bar = tqdm(desc="向量化（Ray）", unit="段", disable=not show_progress)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        got = embed_with_ray(
            [u.text for u in units],
            cache,
            address=None if address == "local" else address,
            embedder_factory=ray_factory(emb, device),
            progress=progress,
        )
    finally:
        bar.close()
    if got.embedded:
        report.notes.append(
            f"Ray（{address}）：{got.actors} 个进程、集群 {got.cluster_cpus:.0f} 个 CPU，"
            f"计算向量 {got.embedded} 个，用时 {got.seconds:.1f} 秒"
        )
    report.embedded += got.embedded
    report.reused -= got.embedded  # embed_units will count them as found in the cache


def _same(folder: IndexFolder, checksum: str, report: BuildReport) -> bool:
    """Whether the live index was built from the same corpus and the same sources."""
    try:
        old = folder.manifest()
    except Exception as e:  # an old or broken index is simply rebuilt
        log.info("existing index not reusable: %s", e)
        return False
    sources = old.get("sources", {})
    return (
        old.get("corpus", {}).get("checksum") == checksum
        and sources.get("statutes") == list(report.statutes)
        and sources.get("cases") == list(report.case_sources)
    )


def _token_counter(emb: Embedder) -> Any:
    def count(text: str) -> int:
        # up to 300 characters never exceed the limit: skip the tokenizer for most articles
        return len(text) if len(text) <= 300 else emb.count_tokens(text)

    return count
