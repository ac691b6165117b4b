"""The county's shared precedents in a committee's similar cases: other committees' masked records.

A committee that syncs to a county store (``fengqiao sync --to postgresql://…`` remembers
the address in ``<kb>/county.json``; env ``FENGQIAO_COUNTY_URI`` overrides it) also pulls
the records the other committees synced: already masked, each labelled with where it
comes from (来自 清河镇东村人民调解委员会). They are kept in ``<kb>/county_shared.sqlite3``
with their vectors, keyed by record and content digest, so a record is embedded once
and a question never waits on the network:

- a pull compares the county's list of live records (committee, number, digest) with the
  cache: new and changed records are fetched, withdrawn or deleted ones dropped (so a
  record a committee deleted disappears after the next pull), nothing else is read;
- ``fengqiao sync`` pulls after it pushes; a running server pulls in a background thread
  when the last pull is older than :data:`REFRESH_S` (:data:`RETRY_S` after a failure);
- a question reads only the local cache; when the last pull failed it says so in one
  notice and answers with what is local.

Only the similar-case list changes: the shared records never join the case corpus, so
precedent evidence for ranking articles, the answer's points and every retrieval figure
stay what they were. Synthetic (demo) records live in another schema and are never read.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from ingest import userdb
from ingest.cases.classify import classify
from ingest.records import SHARED_FROM, Case, Citation
from retrieval import similar
from retrieval.config import SearchConfig
from retrieval.encoders.embedder import Embedder
from retrieval.errors import CountyError
from retrieval.hits import CaseHit, Filters, Hit, Notice, SearchResult, Why
from retrieval.kb_folder import COUNTY_CONFIG, COUNTY_SHARED, KBFolder
from retrieval.precedents import Precedent

if TYPE_CHECKING:
    from retrieval.corpus import CaseCorpus

CACHE = COUNTY_SHARED
CONFIG = COUNTY_CONFIG  # the committee's name, town, county and the county store's address
URI_ENV = "FENGQIAO_COUNTY_URI"
REFRESH_S = 600.0
RETRY_S = 60.0
ID_PREFIX = "county-"
SOURCE = "县级共享调解案例（各调委会同步到县级库的已匿名化记录）"
FETCH = 500  # records fetched per query

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shared (
    id TEXT PRIMARY KEY,
    committee TEXT NOT NULL,
    town TEXT NOT NULL,
    number TEXT NOT NULL,
    digest TEXT NOT NULL,
    record TEXT NOT NULL,          -- the Case as JSON
    model TEXT NOT NULL DEFAULT '', -- the embedder key of ``vectors``
    vectors BLOB                   -- float32 (units x dim), NULL until embedded
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS milvus_held ( -- what a Milvus collection holds of the cache
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (collection, id)
);
"""


@dataclass(frozen=True)
class Source:
    """Where the shared precedents come from, and whose own records to leave out."""

    uri: str
    committee: str  # this committee (its records are local already); "" before a first sync


def origin(town: str, committee: str) -> str:
    """来自 the town and committee, the label every shared record carries."""
    where = committee if not town or committee.startswith(town) else f"{town}{committee}"
    return f"{SHARED_FROM}{where}"


def without_password(uri: str) -> str:
    """The URI to remember on disk: the password, if any, stays out (libpq reads PGPASSWORD
    or ~/.pgpass for it)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}@" if parts.username else ""
    return parts._replace(netloc=f"{user}{host}").geturl()


def read_config(kb_dir: Path) -> dict[str, str]:
    """``<kb>/county.json`` ({} when missing or unreadable: ``fengqiao sync`` reports that)."""
    try:
        data = json.loads(KBFolder.of(kb_dir).county_config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def configured(kb_dir: Path) -> Source | None:
    """The county store this committee shares with, or None when it has none."""
    saved = read_config(kb_dir)
    uri = os.environ.get(URI_ENV) or saved.get("uri", "")
    if not uri.startswith(("postgresql://", "postgres://")):
        return None
    return Source(uri, saved.get("committee", ""))


def shared_id(committee: str, number: str) -> str:
    return f"{ID_PREFIX}{committee}-{number}"


def to_case(row: dict[str, Any]) -> Case:
    """A county record (a row of ``records``) as a 调解案例 labelled with its committee."""
    p = Precedent(
        number=row["number"],
        title=row["title"],
        dispute_type=row["dispute_type"],
        facts=row["facts"],
        agreement=row["agreement"],
        result=row["result"],
        focus=row["focus"],
        process=row["process"],
        performance=row["performance"],
        articles=tuple(Citation.from_dict(d) for d in _json_list(row["articles"])),
        parties=tuple(str(x) for x in _json_list(row["parties"])),
        date=row["settled"].isoformat() if row["settled"] else "",
        region=row["region"],
        committee=row["committee"],
        dispute_type_origin=row["dispute_type_origin"],
        revision=row["revision"],
    )
    return replace(
        p.to_case(),
        id=shared_id(row["committee"], row["number"]),
        source=SOURCE,
        provenance=origin(row["town"], row["committee"]),
    )


def _json_list(value: Any) -> list[Any]:
    data = json.loads(value) if isinstance(value, str) else value
    return list(data) if isinstance(data, list) else []


# ---- the local cache ---------------------------------------------------------------------


def _init(db: sqlite3.Connection) -> None:
    """Create the tables (outside any transaction: executescript commits)."""
    db.executescript(_SCHEMA)


def _ensure(path: Path) -> None:
    with userdb.connect(path) as db:
        _init(db)


def read_meta(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with userdb.connect(path) as db:
        _init(db)
        return dict(db.execute("SELECT key, value FROM meta").fetchall())


def _set_meta(db: sqlite3.Connection, **values: object) -> None:
    db.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [(k, str(v)) for k, v in values.items()],
    )


def _bump(db: sqlite3.Connection) -> None:
    row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    _set_meta(db, generation=int(row[0]) + 1 if row else 1)


@dataclass(frozen=True)
class PullReport:
    added: int = 0
    updated: int = 0
    withdrawn: int = 0
    total: int = 0  # shared records held after the pull


_COLUMNS = (
    "committee", "town", "number", "revision", "digest", "title", "dispute_type",
    "dispute_type_origin", "settled", "facts", "focus", "process", "result", "agreement",
    "performance", "articles", "parties", "region",
)  # fmt: skip


def pull(source: Source, path: Path) -> PullReport:
    """Bring the cache in line with the county's live shared records; see the module docstring.

    Raises:
        CountyError: the county store cannot be reached or read (recorded in the cache's
            meta, so questions can say so, before it is raised).
    """
    import psycopg

    from retrieval.county import schema

    attempt = datetime.now().isoformat(timespec="seconds")
    _ensure(path)
    with userdb.writing(path) as db:
        _set_meta(db, attempted=attempt)
        held = dict(db.execute("SELECT id, digest FROM shared").fetchall())
        row = db.execute("SELECT value FROM meta WHERE key = 'seen'").fetchone()
        seen = str(row[0]) if row else ""
    try:
        with schema.connect(source.uri) as conn:
            conn.read_only = True
            live: dict[str, tuple[str, str, str]] = {}
            current = schema.version(conn) > 0
            # Every sync batch writes a sync-log row with its records: an unchanged last id
            # means nothing changed, and one index probe spares listing every record.
            mark = f"{_data_version(conn) if current else 0}|{source.committee}"
            if mark == seen:
                with userdb.writing(path) as db:
                    _set_meta(db, pulled=attempt, error="", error_at="")
                return PullReport(total=len(held))
            if current:
                for committee, number, digest in conn.execute(
                    "SELECT committee, number, digest FROM records "
                    "WHERE NOT withdrawn AND NOT synthetic AND committee <> %s",
                    (source.committee,),
                ):
                    live[shared_id(committee, number)] = (committee, number, digest)
            wanted = [v for k, v in live.items() if held.get(k) != v[2]]
            rows: list[dict[str, Any]] = []
            for i in range(0, len(wanted), FETCH):
                part = wanted[i : i + FETCH]
                cur = conn.execute(
                    f"SELECT {', '.join(_COLUMNS)} FROM records "  # type: ignore[arg-type]
                    "WHERE (committee, number) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                    ([c for c, _, _ in part], [n for _, n, _ in part]),
                )
                rows += [dict(zip(_COLUMNS, r, strict=True)) for r in cur.fetchall()]
    except (CountyError, psycopg.Error) as exc:
        line = exc.line() if isinstance(exc, CountyError) else _first_line(exc)
        with userdb.writing(path) as db:
            _set_meta(db, error=line, error_at=attempt)
        if isinstance(exc, CountyError):
            raise
        raise CountyError(f"读取县级共享案例失败：{line}", "稍后再试；本机案例照常可查") from None
    gone = [k for k in held if k not in live]
    with userdb.writing(path) as db:
        if gone:
            db.executemany("DELETE FROM shared WHERE id = ?", [(k,) for k in gone])
        for row in rows:
            case = to_case(row)
            db.execute(
                "INSERT INTO shared (id, committee, town, number, digest, record, model, vectors) "
                "VALUES (?, ?, ?, ?, ?, ?, '', NULL) ON CONFLICT (id) DO UPDATE SET "
                "committee = excluded.committee, town = excluded.town, number = excluded.number, "
                "digest = excluded.digest, record = excluded.record, model = '', vectors = NULL",
                (
                    case.id,
                    row["committee"],
                    row["town"],
                    row["number"],
                    row["digest"],
                    json.dumps(case.to_dict(), ensure_ascii=False),
                ),
            )
        if gone or rows:
            _bump(db)
        _set_meta(db, pulled=attempt, error="", error_at="", seen=mark)
        total = db.execute("SELECT count(*) FROM shared").fetchone()[0]
    added = sum(1 for r in rows if shared_id(r["committee"], r["number"]) not in held)
    return PullReport(added, len(rows) - added, len(gone), int(total))


def _data_version(conn: Any) -> int:
    row = conn.execute("SELECT COALESCE(max(id), 0) FROM sync_log").fetchone()
    return int(row[0]) if row else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unembedded(path: Path) -> int:
    """Cached records without vectors yet."""
    if not path.exists():
        return 0
    with userdb.connect(path) as db:
        _init(db)
        row = db.execute("SELECT count(*) FROM shared WHERE vectors IS NULL").fetchone()
    return int(row[0]) if row else 0


def embed_missing(path: Path, embedder: Embedder, cache_dir: Path | None = None) -> int:
    """Embed the cached records that have no vectors for ``embedder`` yet; how many.

    Vectors come from the knowledge base's embedding cache when its text was seen before
    (``cache_dir``), so a record is encoded once, whatever happens to this cache.
    """
    from retrieval.build import embed_units
    from retrieval.encoders.embcache import EmbeddingCache
    from retrieval.units import case_units

    if not path.exists():
        return 0
    with userdb.connect(path) as db:
        _init(db)
        todo = db.execute(
            "SELECT id, digest, record FROM shared WHERE vectors IS NULL OR model <> ?",
            (embedder.key,),
        ).fetchall()
    if not todo:
        return 0
    cases = [Case.from_dict(json.loads(r)) for _, _, r in todo]
    units = case_units(cases)
    cache = EmbeddingCache(cache_dir or path.parent / "cache" / "embeddings", embedder.key)
    vectors = np.asarray(embed_units(units, embedder, cache), np.float32)
    by_case: dict[str, list[np.ndarray]] = {}
    for unit, vec in zip(units, vectors, strict=True):
        by_case.setdefault(unit.parent, []).append(vec)
    with userdb.writing(path) as db:
        for cid, digest, _ in todo:
            blob = np.stack(by_case[cid]).astype(np.float32).tobytes()
            # a pull meanwhile may have changed the record: its new content waits its turn
            db.execute(
                "UPDATE shared SET model = ?, vectors = ? WHERE id = ? AND digest = ?",
                (embedder.key, blob, cid, digest),
            )
        _bump(db)
    return len(todo)


@dataclass(frozen=True)
class _Index:
    """The embedded shared records in memory: unit vectors grouped by case."""

    cases: tuple[Case, ...]
    vectors: np.ndarray  # (units, dim), each case's units together
    starts: np.ndarray  # first unit row of each case
    missing: int  # records still without vectors
    digests: tuple[str, ...] = ()  # of ``cases``, so a reload reads only what changed

    @classmethod
    def load(cls, path: Path, embedder: Embedder, previous: _Index | None = None) -> _Index:
        """The cache's embedded records; those ``previous`` holds at the same digest are
        reused, not read and parsed again (a pull that changed 2,000 of 20,000 records
        reloads 2,000)."""
        kept: dict[str, tuple[str, Case, np.ndarray]] = {}
        if previous is not None:
            for i, (case, digest) in enumerate(zip(previous.cases, previous.digests, strict=True)):
                end = previous.starts[i + 1] if i + 1 < len(previous.starts) else None
                kept[case.id] = (digest, case, previous.vectors[previous.starts[i] : end])
        entries: list[tuple[str, Case, np.ndarray]] = []
        missing = 0
        if path.exists():
            with userdb.connect(path) as db:
                _init(db)
                listed = db.execute(
                    "SELECT id, digest, model = ? AND vectors IS NOT NULL FROM shared ORDER BY id",
                    (embedder.key,),
                ).fetchall()
                ready = [(i, d) for i, d, ok in listed if ok]
                missing = len(listed) - len(ready)
                fresh = _rows_by_id(db, [i for i, d in ready if kept.get(i, ("",))[0] != d])
        for cid, digest in ready:
            old = kept.get(cid)
            if old is not None and old[0] == digest:
                entries.append(old)
            elif cid in fresh:
                record, blob = fresh[cid]
                vecs = np.frombuffer(blob, np.float32).reshape(-1, embedder.dim)
                entries.append((digest, Case.from_dict(json.loads(record)), vecs))
        blocks = [e[2] for e in entries]
        sizes = np.array([len(b) for b in blocks], np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if blocks else np.zeros(0, np.int64)
        vectors = np.concatenate(blocks) if blocks else np.zeros((0, embedder.dim), np.float32)
        return cls(
            tuple(e[1] for e in entries), vectors, starts, missing, tuple(e[0] for e in entries)
        )

    def __len__(self) -> int:
        return len(self.cases)

    def nearest(self, qvec: np.ndarray, flt: Filters, depth: int) -> list[tuple[Case, float]]:
        """The ``depth`` allowed cases closest to the question (best unit cosine), best first."""
        if not self.cases:
            return []
        cos = np.maximum.reduceat(self.vectors @ qvec, self.starts)
        out: list[tuple[Case, float]] = []
        for i in np.argsort(-cos, kind="stable"):
            case = self.cases[int(i)]
            if flt.allows_case(case):
                out.append((case, float(cos[int(i)])))
                if len(out) >= depth:
                    break
        return out


class _MilvusIndex:
    """The embedded shared records in a Milvus collection beside the knowledge base's own
    (``<prefix>_county_shared``, vectors only), where the server's cases are on Milvus:
    a county server keeps a million shared records' vectors there, not in its memory, and
    the filters run in the engine. The cache stays the source; ``milvus_held`` records
    which digest of each record the collection holds, so only changes are written."""

    def __init__(self, cases_store: Any, path: Path, embedder: Embedder) -> None:
        from retrieval.stores.milvus import MilvusStore

        prefix = cases_store.name.removesuffix("_cases")
        self.path = path
        self.store = MilvusStore(
            cases_store.uri,
            f"{prefix}_county_shared",
            corpus="cases",
            dim=embedder.dim,
            model_key=embedder.key,
            keyword=False,
            client=cases_store.client,
        )
        self.model = embedder.key
        self.dim = embedder.dim
        self.missing = 0
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def sync(self) -> None:
        """Write what the cache gained or changed, delete what it lost."""
        from retrieval.corpus import case_rows
        from retrieval.units import case_units

        name = self.store.name
        with userdb.connect(self.path) as db:
            _init(db)
            rows = db.execute("SELECT id, digest, model, vectors IS NULL FROM shared").fetchall()
            held = dict(
                db.execute(
                    "SELECT id, digest FROM milvus_held WHERE collection = ?", (name,)
                ).fetchall()
            )
        ready = {i: d for i, d, m, none in rows if not none and m == self.model}
        self.missing = len(rows) - len(ready)
        self.count = len(ready)
        drop = [i for i, d in held.items() if ready.get(i) != d]
        add = [i for i, d in ready.items() if held.get(i) != d]
        if drop:
            self.store.delete(drop)
        cases: list[Case] = []
        vectors: list[np.ndarray] = []
        with userdb.connect(self.path) as db:
            for i in range(0, len(add), FETCH):
                part = add[i : i + FETCH]
                marks = ", ".join("?" * len(part))
                for record, blob in db.execute(
                    f"SELECT record, vectors FROM shared WHERE id IN ({marks})", part
                ):
                    cases.append(Case.from_dict(json.loads(record)))
                    vectors.append(np.frombuffer(blob, np.float32).reshape(-1, self.dim))
        if cases:
            units = case_units(cases)
            self.store.upsert(case_rows(cases, units), np.concatenate(vectors), [[] for _ in units])
        with userdb.writing(self.path) as db:
            db.executemany(
                "DELETE FROM milvus_held WHERE collection = ? AND id = ?",
                [(name, i) for i in drop],
            )
            db.executemany(
                "INSERT OR REPLACE INTO milvus_held (collection, id, digest) VALUES (?, ?, ?)",
                [(name, i, ready[i]) for i in add],
            )

    def nearest(self, qvec: np.ndarray, flt: Filters, depth: int) -> list[tuple[Case, float]]:
        found = self.store.dense(qvec, flt, depth)
        cases = _cases_by_id(self.path, [s.parent for s in found])
        return [(cases[s.parent], s.score) for s in found if s.parent in cases]


def _rows_by_id(db: sqlite3.Connection, ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
    """(record JSON, vectors) of the given cached records."""
    out: dict[str, tuple[str, bytes]] = {}
    for i in range(0, len(ids), FETCH):
        part = list(ids[i : i + FETCH])
        marks = ", ".join("?" * len(part))
        for cid, record, blob in db.execute(
            f"SELECT id, record, vectors FROM shared WHERE id IN ({marks})", part
        ):
            out[cid] = (record, blob)
    return out


def _cases_by_id(path: Path, ids: Sequence[str]) -> dict[str, Case]:
    if not ids or not path.exists():
        return {}
    marks = ", ".join("?" * len(ids))
    with userdb.connect(path) as db:
        _init(db)
        return {
            i: Case.from_dict(json.loads(r))
            for i, r in db.execute(
                f"SELECT id, record FROM shared WHERE id IN ({marks})", list(ids)
            )
        }


# ---- in the service ----------------------------------------------------------------------


class SharedPrecedents:
    """Other committees' cases beside the committee's own in the similar-case list."""

    def __init__(
        self,
        kb_dir: Path,
        source: Source,
        embedder: Embedder,
        local: CaseCorpus | None = None,
        *,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self.kb_dir = Path(kb_dir)
        self.path = KBFolder(self.kb_dir).county_shared
        self.source = source
        self.embedder = embedder
        self.local = local
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._generation = ""
        self._index: _Index | _MilvusIndex = _Index(
            (), np.zeros((0, embedder.dim), np.float32), np.zeros(0, np.int64), 0
        )
        self._milvus: _MilvusIndex | None = None
        store = getattr(local, "store", None)
        if type(store).__module__ == "retrieval.stores.milvus":  # the county runs Milvus
            self._milvus = _MilvusIndex(store, self.path, embedder)
        self._meta: dict[str, str] = {}

    @classmethod
    def for_kb(
        cls, kb_dir: Path | None, embedder: Embedder, local: CaseCorpus | None = None
    ) -> SharedPrecedents | None:
        """The shared precedents of a committee configured with a county store, else None."""
        if kb_dir is None:
            return None
        source = configured(Path(kb_dir))
        return None if source is None else cls(Path(kb_dir), source, embedder, local)

    # -- keeping the cache current, off the question's path --

    def refresh(self) -> PullReport:
        """Pull, then embed what is new (the background thread and ``fengqiao sync`` call it)."""
        report = pull(self.source, self.path)
        embed_missing(self.path, self.embedder, KBFolder(self.kb_dir).embeddings)
        return report

    def _due(self) -> bool:
        meta = self._meta
        if self._index.missing:
            return True
        attempted = meta.get("attempted", "")
        if not attempted:
            return True
        wait = RETRY_S if meta.get("error") else self.refresh_s
        age = time.time() - datetime.fromisoformat(attempted).timestamp()
        return age >= wait

    def refresh_in_background(self) -> threading.Thread | None:
        """Start a pull when one is due and none runs; never waits for it."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return None
            if not self._due():
                return None
            self._thread = threading.Thread(
                target=self._refresh_quietly, daemon=True, name="fengqiao-county-pull"
            )
            self._thread.start()
            return self._thread

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
            self.current()  # reload here, not in the next question
        except Exception:  # noqa: BLE001 - recorded in the cache's meta; questions say so
            import logging

            logging.getLogger(__name__).debug("county pull failed", exc_info=True)

    def current(self) -> _Index | _MilvusIndex:
        """The index over the cache as it is now (reloaded when a pull or embed changed it)."""
        try:
            meta = read_meta(self.path)
        except Exception:  # noqa: BLE001 - a damaged cache must not stop a question
            meta = {"error": "本机的县级共享案例缓存无法读取"}
        self._meta = meta
        generation = meta.get("generation", "")
        if generation != self._generation:
            with self._lock:
                if self._milvus is not None:
                    self._milvus.sync()  # the server's own store: written as cases are
                    self._index = self._milvus
                else:
                    previous = self._index if isinstance(self._index, _Index) else None
                    self._index = _Index.load(self.path, self.embedder, previous)
                self._generation = generation
        return self._index

    @property
    def generation(self) -> str:
        """Changes whenever the shared records change (keys the pages' result memos)."""
        self.current()
        return self._generation

    def notice(self) -> Notice | None:
        """One line when the last pull failed: local cases still answer."""
        if not self._meta.get("error"):
            return None
        pulled = self._meta.get("pulled", "")
        if len(self._index) and pulled:
            text = (
                f"县级共享案例库暂时连不上，其他调委会的案例是 {pulled.replace('T', ' ')[:16]} 取回的；"
                "本机案例照常检索"
            )
        else:
            text = "县级共享案例库暂时连不上，类似案例只含本机的案例"
        return Notice("info", text)

    def case(self, case_id: str) -> Case | None:
        if not case_id.startswith(ID_PREFIX):
            return None
        self.current()  # a record withdrawn at the last pull is gone from the cache too
        return _cases_by_id(self.path, [case_id]).get(case_id)

    # -- the question --

    def join(
        self,
        question: str,
        result: SearchResult,
        k: int,
        flt: Filters | None,
        cfg: SearchConfig,
    ) -> SearchResult:
        """``result`` with the shared cases that clear the similar-case rules merged into its
        cases (resolutions first, then by cosine; the local order kept), plus a notice when
        the county could not be reached."""
        index = self.current()
        self.refresh_in_background()
        found = self.notice()
        notices = [*result.notices, found] if found is not None else result.notices
        if not k or not len(index) or _by_citation(result.cases):
            return replace(result, notices=notices)
        flt = flt or Filters()
        qvec = self.embedder.encode_queries([question])[0]
        pool: list[CaseHit] = []
        cos: dict[str, float] = {}
        for case, score in index.nearest(qvec, flt, cfg.similar_pool):
            pool.append(Hit(case, round(score, 6), len(pool) + 1, Why(("semantic",))))
            cos[case.id] = round(score, 6)
        top = [h.record for h in result.articles[:3]]
        qtype = classify(question, [Citation(a.citation, a.law, a.key) for a in top]).dispute_type
        chosen = similar.choose(pool, cos, qtype, result.articles, k, cfg, flt)
        if not chosen:
            return replace(result, notices=notices)
        local_cos = self._local_cosines(qvec, [h.record.id for h in result.cases])
        merged = _merge(
            result.cases,
            chosen,
            lambda h: (similar.tier(h.record), -local_cos.get(h.record.id, h.score)),
            lambda h: (similar.tier(h.record), -h.score),
        )
        cases = [replace(h, rank=i) for i, h in enumerate(merged[:k], 1)]
        return replace(result, cases=cases, notices=notices)

    def _local_cosines(self, qvec: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        if self.local is None or not ids:
            return {}
        return {c: s.score for c, s in self.local.store.dense_of(qvec, list(ids)).items()}


def _by_citation(hits: Sequence[CaseHit]) -> bool:
    """The list answers a question that is only a citation (the cases citing the article)."""
    return any(h.why is not None and "citation" in h.why.sources for h in hits)


def _merge(
    local: Sequence[CaseHit],
    shared: Sequence[CaseHit],
    local_key: Any,
    shared_key: Any,
) -> list[CaseHit]:
    """Both lists in one, each keeping its own order; a tie goes to the local case."""
    out: list[CaseHit] = []
    i = j = 0
    while i < len(local) or j < len(shared):
        if j >= len(shared) or (i < len(local) and local_key(local[i]) <= shared_key(shared[j])):
            out.append(local[i])
            i += 1
        else:
            out.append(shared[j])
            j += 1
    return out
