"""Units of one corpus in a Milvus collection: a milvus-lite file, or a standalone/cluster server.

One collection per corpus (articles, cases). Every unit row carries its record's filter
fields as scalar fields, so ``Filters`` become a boolean expression evaluated inside the
engine. Dense search is inner product on L2-normalised vectors (cosine); keyword search is
Milvus' own BM25 (``Function(BM25)``, Milvus ≥ 2.5) over *our* jieba tokens: each token is
written as a short hex hash, so the engine's analyzer (``standard``: ``\\w+`` + lowercase)
sees exactly our tokens, whatever analyzers a server ships, and scores equal bm25s' Lucene
BM25 times ``k1 + 1`` (divided out here). See docs/scale.md for the measurements.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ingest.names import canonical_law
from retrieval.errors import KBError
from retrieval.errors import StoreWriteError as StoreWriteError  # re-exported: its first home
from retrieval.hits import Filters
from retrieval.store import Scored, UnitRow

log = logging.getLogger(__name__)

TOKEN_ENV = "FENGQIAO_MILVUS_TOKEN"
"""Environment variable holding the server token (``user:password`` or an API key)."""

FORMAT = "fengqiao-units"
FORMAT_VERSION = 1
MAX_TOPK = 16384  # Milvus' limit on limit + offset of one search
K1, B = 1.2, 0.75  # bm25s' Lucene defaults (retrieval/bm25.py), so scores match
_TERM_BYTES = 6  # 48-bit token hashes: collisions far rarer than Milvus' own 32-bit term hashes
_VARCHAR = 65535  # Milvus' VARCHAR ceiling (bytes)
# byte limits of the scalar fields; a longer value is refused with its unit id
_FIELDS: tuple[tuple[str, int], ...] = (
    ("parent", 1024),
    ("law", 512),
    ("level", 64),
    ("status", 64),
    ("dispute_type", 128),
    ("kind", 128),
    ("region", 256),
    ("date", 64),
    ("source", 512),
)
_META = "fengqiao.meta"  # collection property holding FORMAT, corpus, dim, model
_FILLED = "fengqiao.filled"  # collection property: which index folder's units it holds
_INDEXED = ("parent", "law", "status", "dispute_type", "kind", "source")  # INVERTED scalar indexes

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")  # what a Milvus server accepts
Corpus = Literal["articles", "cases"]


@dataclass(frozen=True)
class IndexSpec:
    """The dense index a collection is built with.

    ``FLAT`` is exact (the default: the same results as the FAISS store); ``HNSW`` or
    ``IVF_FLAT`` trade recall for speed on large collections (docs/scale.md).
    """

    kind: Literal["FLAT", "HNSW", "IVF_FLAT"] = "FLAT"
    build: tuple[tuple[str, Any], ...] = ()  # e.g. (("M", 16), ("efConstruction", 200))
    search: tuple[tuple[str, Any], ...] = ()  # e.g. (("ef", 128),) or (("nprobe", 32),)


def server_uri(uri: str) -> tuple[str, bool]:
    """``(uri for pymilvus, is_lite)``: ``milvus://h:p`` → ``http://h:p`` (``milvus+tls://`` →
    https), http(s) as given, anything else a local milvus-lite file that must end in ``.db``."""
    for prefix, scheme in (("milvus+tls://", "https://"), ("milvus://", "http://")):
        if uri.startswith(prefix):
            return scheme + uri[len(prefix) :], False
    if uri.startswith(("http://", "https://", "tcp://", "unix:")):
        return uri, False
    if not uri.endswith(".db"):
        raise KBError(
            f"无法识别的 Milvus 地址：{uri}",
            "服务器写作 milvus://主机:19530，本地文件写作 路径/名称.db",
        )
    Path(uri).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    return str(Path(uri).expanduser().resolve()), True


def connect(uri: str, *, timeout: float = 30.0) -> tuple[Any, bool]:
    """A ``MilvusClient`` for ``uri`` and whether it is milvus-lite; the token comes from
    env ``FENGQIAO_MILVUS_TOKEN`` (never from a file or the command line)."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    target, lite = server_uri(uri)
    token = "" if lite else os.environ.get(TOKEN_ENV, "")
    try:
        return MilvusClient(uri=target, token=token, timeout=timeout), lite
    except (MilvusException, OSError) as e:
        hint = (
            "milvus-lite 文件同一时间只能由一个程序打开：关闭正在使用它的其他 fengqiao 进程，"
            "多人同时使用请改用 Milvus 服务器（milvus://主机:19530）"
            if lite
            else f"确认服务已启动、地址和端口正确；需要认证时设置环境变量 {TOKEN_ENV}"
        )
        raise KBError(f"无法打开 Milvus（{uri}）：{_short(e)}", hint) from e


def _short(e: BaseException) -> str:
    return (getattr(e, "message", "") or str(e)).splitlines()[0][:200]


def quote(value: str) -> str:
    """A Milvus expression string literal for ``value`` (quotes, backslashes, newlines escaped)."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def _in(field: str, values: Sequence[str], negate: bool = False) -> str:
    return f"{field} {'not in' if negate else 'in'} [{', '.join(quote(v) for v in values)}]"


def filter_expr(flt: Filters, corpus: Corpus) -> str:
    """The boolean expression for the fields of ``flt`` that apply to ``corpus`` ("" = all)."""
    parts: list[str] = []
    if corpus == "articles":
        if flt.current_only:
            parts.append("current == true")
        if flt.statuses:
            parts.append(_in("status", flt.statuses))
        if flt.laws:
            parts.append(_in("law", sorted({canonical_law(x) for x in flt.laws})))
        if flt.levels:
            parts.append(_in("level", flt.levels))
        return " and ".join(parts)
    if flt.dispute_types:
        parts.append(_in("dispute_type", flt.dispute_types))
    if flt.case_kinds:
        parts.append(_in("kind", flt.case_kinds))
    if flt.date_from:
        parts.append(f'date != "" and date >= {quote(flt.date_from)}')
    if flt.date_to:
        # the FAISS store's rule is date[:len(to)] <= to: on ASCII dates that is date < to + "~"
        parts.append(f'date != "" and date < {quote(flt.date_to + "~")}')
    if flt.exclude_case_ids:
        parts.append(_in("parent", flt.exclude_case_ids, negate=True))
    sources = getattr(flt, "exclude_case_sources", ())  # planned Filters field
    if sources:
        parts.append(_in("source", sources, negate=True))
    return " and ".join(parts)


def term(token: str) -> str:
    """The hex word a token is written as in the collection's analysed text field."""
    return hashlib.blake2b(token.encode("utf-8"), digest_size=_TERM_BYTES).hexdigest()


@dataclass(frozen=True)
class _Hit:
    unit: str
    parent: str
    seq: int
    score: float


class MilvusStore:
    """``UnitStore`` over one Milvus collection (created on first use).

    Args:
        uri: ``path/name.db`` (milvus-lite), ``milvus://host:19530``, ``milvus+tls://…``
            or an ``http(s)://`` URL; the token comes from env ``FENGQIAO_MILVUS_TOKEN``.
        collection: collection name, e.g. ``fengqiao_cases``.
        corpus: which filter fields apply (articles: law/level/status/current; cases:
            dispute type, kind, date, excluded ids and sources).
        dim: vector dimension; a collection made for another dimension or model is refused.
        model_key: the embedder's key, recorded in the collection and checked on open.
        index: the dense index (exact ``FLAT`` by default).
        keyword: keep the BM25 field (turn off for vector-only benchmarks).
        batch: rows per write request.
        group_by: ``"engine"`` uses Milvus' ``group_by_field`` to get one hit per record;
            ``"client"`` oversamples units and groups here; ``"auto"`` picks the engine on
            a server and the client on milvus-lite, whose grouping oversamples only 10×
            and may return fewer records than asked.
        client: an already connected ``MilvusClient`` (tests inject failures through it).
    """

    def __init__(
        self,
        uri: str,
        collection: str,
        *,
        corpus: Corpus,
        dim: int,
        model_key: str = "",
        index: IndexSpec = IndexSpec(),
        keyword: bool = True,
        batch: int = 1000,
        group_by: Literal["auto", "engine", "client"] = "auto",
        client: Any = None,
    ) -> None:
        if not _NAME.fullmatch(collection):
            raise KBError(
                f"Milvus 集合名称 {collection!r} 不合法",
                "只用英文字母、数字和下划线，且不以数字开头",
            )
        if client is None:
            client, lite = connect(uri)
        else:
            lite = server_uri(uri)[1]
        self.client = client
        self.uri = uri
        self.lite = lite
        self.name = collection
        self.corpus: Corpus = corpus
        self.dim = int(dim)
        self.model_key = model_key
        self.index = index
        self.keyword_enabled = keyword
        self.batch = batch
        self.group_by = ("client" if lite else "engine") if group_by == "auto" else group_by
        self._terms: dict[str, str] = {}
        self._last_seq = 0
        self._dirty = False
        self._open()

    # ---- collection --------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "corpus": self.corpus,
            "dim": self.dim,
            "model": self.model_key,
            "keyword": self.keyword_enabled,
        }

    def _open(self) -> None:
        if self.client.has_collection(self.name):
            self._check(self.client.describe_collection(self.name))
            self.client.load_collection(self.name)
            return
        self._create()

    def _check(self, desc: Mapping[str, Any]) -> None:
        raw = (desc.get("properties") or {}).get(_META) or desc.get("description") or "{}"
        try:
            meta = json.loads(raw)
        except json.JSONDecodeError:
            meta = {}
        if meta.get("format") != FORMAT:
            raise KBError(
                f"Milvus 集合 {self.name} 不是枫桥的索引集合（{self.uri}）",
                "换一个集合名称，或确认地址后删除该集合",
            )
        want = self._meta()
        for key, label in (("corpus", "内容"), ("dim", "向量维数"), ("model", "向量模型")):
            if key == "model" and not (want[key] and meta.get(key)):
                continue
            if meta.get(key) != want[key]:
                raise KBError(
                    f"Milvus 集合 {self.name} 的{label}为 {meta.get(key)}，当前为 {want[key]}（{self.uri}）",
                    "用当前模型重新构建（fengqiao build），或换一个集合名称",
                )
        self.keyword_enabled = bool(meta.get("keyword", True))

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        schema = MilvusClient.create_schema(
            auto_id=False, enable_dynamic_field=False, description=json.dumps(self._meta())
        )
        schema.add_field("unit", DataType.VARCHAR, max_length=1024, is_primary=True)
        schema.add_field("seq", DataType.INT64)
        schema.add_field("current", DataType.BOOL)
        for name, size in _FIELDS:
            schema.add_field(name, DataType.VARCHAR, max_length=size)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self.client.prepare_index_params()
        params.add_index(
            "vec",
            index_type=self.index.kind,
            metric_type="IP",
            **self._build(dict(self.index.build)),
        )
        for name in _INDEXED:
            params.add_index(name, index_type="INVERTED")
        if self.keyword_enabled:
            schema.add_field(
                "terms",
                DataType.VARCHAR,
                max_length=_VARCHAR,
                enable_analyzer=True,
                analyzer_params={"tokenizer": "standard"},
            )
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name="bm25",
                    function_type=FunctionType.BM25,
                    input_field_names=["terms"],
                    output_field_names=["sparse"],
                )
            )
            params.add_index(
                "sparse",
                index_type="SPARSE_INVERTED_INDEX",
                metric_type="BM25",
                **self._build({"bm25_k1": K1, "bm25_b": B}),
            )
        # Strong: a search right after a write sees it (a mediator records a case, then asks)
        # the description too, but milvus-lite keeps only properties across restarts
        self.client.create_collection(
            self.name,
            schema=schema,
            consistency_level="Strong",
            properties={_META: json.dumps(self._meta())},
        )
        # sync=False: pymilvus would poll each index every 0.5 s (4 s per empty collection);
        # loading waits until the indexes are built anyway
        self.client.create_index(self.name, params, sync=False)
        self.client.load_collection(self.name)

    def _build(self, build: dict[str, Any]) -> dict[str, Any]:
        if not build:
            return {}
        # pymilvus 3 sends build parameters as flat key-value pairs, which milvus-lite 3.2
        # ignores (it reads only a JSON "params" entry; measured: BM25 kept k1=1.5)
        return {"params": {"params": build}} if self.lite else {"params": build}

    def close(self) -> None:
        """Release the connection (shared by the stores of one ``open_stores``); on milvus-lite
        also the file: its segments and indexes are written out and its lock freed."""
        self.client.close()
        if self.lite:
            release_lite(self.uri)

    def flush(self) -> None:
        """Seal written rows into segments (durable on a server; on milvus-lite also needed
        for BM25: its unsealed rows are scored with statistics over the filtered rows only)."""
        self.client.flush(self.name)
        self._dirty = False

    def drop(self) -> None:
        """Remove the collection and everything in it."""
        self.client.drop_collection(self.name)

    def filled_from(self) -> dict[str, Any]:
        """What ``mark_filled`` recorded last (``{}``: never filled, or a fill was cut short)."""
        props = self.client.describe_collection(self.name).get("properties") or {}
        try:
            mark = json.loads(props.get(_FILLED) or "{}")
        except json.JSONDecodeError:
            return {}
        return mark if isinstance(mark, dict) else {}

    def mark_filled(self, source: Mapping[str, Any]) -> None:
        """Record (as a collection property) which index the collection now holds in full."""
        self.client.alter_collection_properties(
            self.name, properties={_FILLED: json.dumps(dict(source), ensure_ascii=False)}
        )

    def clear(self) -> None:
        """Drop and re-create the collection empty (same name, dimension and model)."""
        self.drop()
        self._create()

    # ---- writes ------------------------------------------------------------

    def __len__(self) -> int:
        res = self.client.query(self.name, filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"]) if res else 0

    def _check_dim(self, vectors: np.ndarray, what: str) -> np.ndarray:
        arr = np.asarray(vectors, np.float32)
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise KBError(
                f"{what}的向量维数为 {arr.shape[-1] if arr.ndim else 0}，集合 {self.name} 为 {self.dim} 维",
                "用构建该索引时的模型，或用当前模型重新构建",
            )
        return arr

    def _seqs(self, parents: Sequence[str]) -> dict[str, int]:
        """Tie-break order: records first written by this call, in call order, after all
        earlier writes (a clock-based counter: no lookup of what is stored already)."""
        order = list(dict.fromkeys(parents))
        base = max(time.time_ns(), self._last_seq + 1)
        self._last_seq = base + len(order)
        return {p: base + i for i, p in enumerate(order)}

    def _terms_text(self, tokens: Sequence[str], unit: str) -> str:
        words = []
        for t in tokens:
            if not t:
                continue
            w = self._terms.get(t)
            if w is None:
                w = self._terms[t] = term(t)
            words.append(w)
        text = " ".join(words)
        if len(text) > _VARCHAR:
            log.warning(
                "unit %s: %d keyword tokens, only the first %d kept",
                unit,
                len(words),
                _VARCHAR // 13,
            )
            text = text[: _VARCHAR - _VARCHAR % 13 - 1]
        return text

    def upsert(
        self, rows: Sequence[UnitRow], vectors: np.ndarray, tokens: Sequence[Sequence[str]]
    ) -> None:
        """Insert or replace units by unit id; a batch that fails is reported, the rest written.

        Raises:
            KBError: wrong vector dimension or a field value too long (nothing written).
            StoreWriteError: some batches failed; ``failed`` lists their unit ids.
        """
        vecs = self._check_dim(vectors, "写入")
        if not (len(rows) == len(vecs) == len(tokens)):
            raise KBError(
                f"写入 {self.name}：{len(rows)} 个单元、{len(vecs)} 个向量、{len(tokens)} 组词不一致",
                "这是程序错误，请报告",
            )
        last = {r.unit: i for i, r in enumerate(rows)}  # a unit given twice: the last one wins
        keep = sorted(last.values())
        seqs = self._seqs([rows[i].parent for i in keep])
        data = []
        for i in keep:
            r = rows[i]
            d: dict[str, Any] = {
                "unit": r.unit,
                "seq": seqs[r.parent],
                "current": bool(r.current),
                "vec": vecs[i].tolist(),
            }
            for name, size in (("unit", 1024), *_FIELDS):
                value = getattr(r, name)
                if len(value.encode("utf-8")) > size:
                    raise KBError(
                        f"单元 {r.unit} 的字段 {name} 超过 {size} 字节", "缩短该字段后重新写入"
                    )
                d[name] = value
            if self.keyword_enabled:
                d["terms"] = self._terms_text(tokens[i], r.unit)
            data.append(d)
        self._dirty = True
        self._batched(
            data, lambda chunk: self.client.upsert(self.name, chunk), lambda d: d["unit"], "写入"
        )

    def delete(self, parents: Sequence[str]) -> None:
        """Remove every unit of the given records (unknown ids are ignored)."""
        ids = list(dict.fromkeys(parents))
        self._dirty = True
        self._batched(
            ids,
            lambda chunk: self.client.delete(self.name, filter=_in("parent", chunk)),
            lambda p: p,
            "删除",
        )

    def _batched(
        self,
        items: Sequence[Any],
        send: Callable[[list[Any]], Any],
        key: Callable[[Any], str],
        what: str,
    ) -> None:
        failed: list[str] = []
        first = ""
        for start in range(0, len(items), self.batch):
            chunk = list(items[start : start + self.batch])
            try:
                send(chunk)
            except Exception as e:  # any transport or server error: report the ids, go on
                log.warning("%s %s: batch at %d failed: %s", what, self.name, start, e)
                failed.extend(key(x) for x in chunk)
                first = first or _short(e)
        if failed:
            raise StoreWriteError(
                f"{what} Milvus 集合 {self.name} 时有 {len(failed)} 项失败（如 {failed[0]}）：{first}",
                "检查 Milvus 服务后重新运行同一操作；按编号覆盖写入，不会产生重复",
                failed,
            )

    # ---- search ------------------------------------------------------------

    def dense(self, query: np.ndarray, flt: Filters, depth: int) -> list[Scored]:
        """The ``depth`` records whose best allowed unit is closest to ``query``, best first."""
        q = self._check_dim(np.asarray(query, np.float32).reshape(1, -1), "查询")[0]
        params = {"metric_type": "IP", "params": dict(self.index.search)}
        return self._records(q.tolist(), "vec", params, filter_expr(flt, self.corpus), depth, 1.0)

    def keyword(self, tokens: Sequence[str], flt: Filters, depth: int) -> list[Scored]:
        """The ``depth`` records whose best allowed unit has the highest BM25 score (> 0)."""
        if not self.keyword_enabled:
            raise KBError(f"Milvus 集合 {self.name} 没有关键词索引", "重新构建时打开关键词检索")
        # repeated query words count again, as in bm25s
        text = " ".join(term(t) for t in tokens if t)
        if not text:
            return []
        params = {"metric_type": "BM25", "params": {}}
        expr = filter_expr(flt, self.corpus)
        hits = self._records(text, "sparse", params, expr, depth, 1.0 / (K1 + 1.0))
        return [h for h in hits if h.score > 0]

    def _search(
        self, data: Any, field: str, params: dict[str, Any], expr: str, limit: int, engine: bool
    ) -> list[_Hit]:
        res = self.client.search(
            self.name,
            data=[data],
            anns_field=field,
            limit=limit,
            filter=expr,
            output_fields=["parent", "seq"],
            search_params=params,
            **({"group_by_field": "parent"} if engine else {}),
        )
        # milvus-lite 3.2 reports BM25 scores negated; a BM25 score is never negative
        sign = -1.0 if field == "sparse" and self.lite else 1.0
        return [
            _Hit(
                h["unit"] if "unit" in h else h["id"],
                h["entity"]["parent"],
                int(h["entity"]["seq"]),
                sign * float(h["distance"]),
            )
            for h in res[0]
        ]

    def _records(
        self, data: Any, field: str, params: dict[str, Any], expr: str, depth: int, scale: float
    ) -> list[Scored]:
        """Best unit per record, ``depth`` records, ties by write order then id: exact for an
        exact index, because more is fetched until no unseen record can tie or beat the last."""
        if depth <= 0:
            return []
        if self._dirty and self.lite:
            self.flush()
        engine = self.group_by == "engine"
        limit = min(depth + 16 if engine else max(2 * depth, depth + 16), MAX_TOPK)
        while True:
            hits = self._search(data, field, params, expr, limit, engine)
            best: dict[str, _Hit] = {}
            for h in hits:  # best first, so the first unit seen of a record is its best
                best.setdefault(h.parent, h)
            ranked = sorted(best.values(), key=lambda h: (-h.score, h.seq, h.parent))
            complete = len(hits if not engine else best) < limit
            if complete or limit >= MAX_TOPK:
                break
            floor = hits[-1].score if not engine else ranked[-1].score
            if len(ranked) >= depth and ranked[depth - 1].score > floor:
                break
            limit = min(limit * 4, MAX_TOPK)
        return [Scored(h.parent, h.score * scale, h.unit) for h in ranked[:depth]]

    def dense_of(self, query: np.ndarray, parents: Sequence[str]) -> dict[str, Scored]:
        """Best unit and cosine of each given record (no filters): which section matched."""
        q = self._check_dim(np.asarray(query, np.float32).reshape(1, -1), "查询")[0]
        out: dict[str, Scored] = {}
        ids = list(dict.fromkeys(parents))
        for start in range(0, len(ids), self.batch):
            rows = self.client.query(
                self.name,
                filter=_in("parent", ids[start : start + self.batch]),
                output_fields=["unit", "parent", "vec"],
            )
            for r in rows:
                s = float(np.dot(np.asarray(r["vec"], np.float32), q))
                cur = out.get(r["parent"])
                if cur is None or s > cur.score or (s == cur.score and r["unit"] < cur.unit):
                    out[r["parent"]] = Scored(r["parent"], s, r["unit"])
        return out


def release_lite(uri: str) -> None:
    """Close the in-process milvus-lite database behind ``uri``: flush its memory, finish its
    background index and compaction tasks, free its lock.

    pymilvus' ``close`` only drops the connection; milvus-lite closes its database at
    interpreter exit, which ``os.execve`` (``fengqiao serve``) never reaches. Its
    background tasks were then cut off mid-write, leaving 0-byte Parquet or index files
    that broke the web server's store ("File is too small: 0", "Not an Arrow file").
    """
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(server_uri(uri)[0])


def _lite_locked(path: Path) -> bool:
    """Whether another process holds the milvus-lite folder at ``path`` open."""
    import fcntl

    lock = path / "LOCK"
    if not lock.is_file():
        return False
    with open(lock, "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    return False


def _set_aside(path: Path, reason: str) -> None:
    """Move a broken milvus-lite store out of the way (an empty file is simply removed)."""
    if path.is_file() and path.stat().st_size == 0:
        path.unlink()
        moved = "已删除"
    else:
        aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, aside)
        moved = f"已移到 {aside.name}"
    # one line: the store holds nothing that is not in the knowledge base's index
    log.warning(
        "milvus-lite 存储 %s 无法使用（%s），%s；正在重新建立并从知识库填入", path, reason, moved
    )


@contextlib.contextmanager
def _quiet_milvus() -> Iterator[None]:
    """pymilvus and milvus-lite log every failed call with its traceback (pymilvus sets its
    own level when imported): silenced while a failure is expected and handled."""
    import pymilvus  # noqa: F401  (first, or its import would reset the level set here)

    loggers = [logging.getLogger(n) for n in ("pymilvus", "milvus_lite")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _broken(e: BaseException) -> bool:
    """Whether ``e`` says a milvus-lite store's files are damaged (not: in use, not ours)."""
    from pymilvus.exceptions import MilvusException

    if isinstance(e, MilvusException | OSError):
        return True
    return isinstance(e, KBError) and isinstance(e.__cause__, MilvusException | OSError)


def open_stores(
    uri: str,
    *,
    dim: int,
    model_key: str,
    prefix: str = "fengqiao",
    index: IndexSpec = IndexSpec(),
) -> dict[str, MilvusStore]:
    """The two stores of one knowledge base on ``uri``: ``{prefix}_articles`` and
    ``{prefix}_cases`` (one connection, shared).

    A milvus-lite store that cannot be read (an empty file where its folder belongs, a
    damaged segment or index file) is set aside with one logged line and opened empty:
    ``ensure_filled`` then fills it again from the index folder, as for a new store. One
    held open by another process is left alone (KBError).
    """
    target, lite = server_uri(uri)
    if not lite:
        return _open_stores(uri, dim=dim, model_key=model_key, prefix=prefix, index=index)
    path = Path(target)
    if path.exists() and not path.is_dir():
        _set_aside(path, "不是 milvus-lite 文件夹" if path.stat().st_size else "空文件")
    else:
        try:
            with _quiet_milvus():  # a damaged store is handled below, not logged as a traceback
                stores = _open_stores(uri, dim=dim, model_key=model_key, prefix=prefix, index=index)
                for store in stores.values():
                    len(store)  # reads every segment: damage shows now, not at the first question
            return stores
        except Exception as e:
            release_lite(uri)
            if not _broken(e) or _lite_locked(path):
                raise
            _set_aside(path, _short(e))
    return _open_stores(uri, dim=dim, model_key=model_key, prefix=prefix, index=index)


def _open_stores(
    uri: str, *, dim: int, model_key: str, prefix: str, index: IndexSpec
) -> dict[str, MilvusStore]:
    client, _ = connect(uri)
    try:
        return {
            corpus: MilvusStore(
                uri,
                f"{prefix}_{corpus}",
                corpus=corpus,  # type: ignore[arg-type]
                dim=dim,
                model_key=model_key,
                index=index,
                client=client,
            )
            for corpus in ("articles", "cases")
        }
    except BaseException:
        client.close()
        raise
