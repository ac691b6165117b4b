"""The committee's recorded cases (调解案例): read, written and checked in SQLite, searched live.

``PrecedentStore`` is the SQLite file (masked, every cited article verified, a change log);
``Precedents`` is what a loaded knowledge base does with it: every write goes to the store
and into the searched cases at once, and ``sync`` picks up what another process wrote.
Committee tables (CSV/JSONL) come in here by one route, from the page and from ``add``
alike (``import_file``), so a record is held once.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest import userdb
from ingest.anonymise import Anonymiser
from ingest.cases import committee
from ingest.cases.classify import classify
from ingest.cases.link import ArticleIndex, link_cases
from ingest.cases.verdicts import judge
from ingest.citations import extract_citations
from ingest.errors import IngestError
from ingest.records import DISPUTE_TYPES, MEDIATION, Case, Citation, IngestReport, Problem
from retrieval.corpus import case_rows
from retrieval.kb_folder import PRECEDENTS, KBFolder

if TYPE_CHECKING:
    from retrieval.corpus import CaseCorpus
    from retrieval.encoders.embedder import Embedder
    from retrieval.tokenizer import JiebaTokenizer

FILENAME = PRECEDENTS
ID_PREFIX = "precedent-"
PROVENANCE = "本委员会记录"
SOURCE = "本委员会调解记录（调解案例库）"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS precedents (
    number TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    dispute_type TEXT NOT NULL,
    dispute_type_origin TEXT NOT NULL,
    facts TEXT NOT NULL,
    focus TEXT NOT NULL,
    process TEXT NOT NULL,
    result TEXT NOT NULL,
    agreement TEXT NOT NULL,
    performance TEXT NOT NULL,
    articles TEXT NOT NULL,      -- JSON list of Citation dicts, each resolved
    parties TEXT NOT NULL,       -- JSON list of masked names
    date TEXT NOT NULL,
    region TEXT NOT NULL,
    committee TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    revision INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('put', 'delete')),
    at TEXT NOT NULL
);
"""
_NUMBER = re.compile(r"^[\w\-－—.·]{1,40}$")
_TEXT_FIELDS = ("title", "facts", "focus", "process", "result", "agreement", "performance")


class PrecedentError(IngestError):
    """A record that cannot be saved as given (message and hint in Chinese); nothing was written."""


@dataclass(frozen=True)
class PrecedentDraft:
    """What a mediator enters for one resolved dispute, names unmasked (never stored as given).

    ``articles`` are the provisions relied on, as written (《中华人民共和国民法典》第二百八十八条,
    民法典第288条) or as article ids (民法典:288); each must resolve in the
    knowledge base. ``parties`` are the real names: every one is masked in every
    field before saving, and the names themselves are not kept.
    """

    facts: str
    agreement: str = ""  # 协议内容: what the parties agreed
    result: str = ""  # 调解结果: the outcome in a sentence; one of agreement/result is required
    dispute_type: str = ""  # one of DISPUTE_TYPES; "" → the classifier decides
    title: str = ""
    focus: str = ""  # 争议焦点
    process: str = ""  # 调解过程
    performance: str = ""  # 履行情况: how the agreement is carried out
    articles: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    date: str = ""  # YYYY-MM-DD, 2024年3月5日 …
    region: str = ""
    committee: str = ""  # the mediation committee's name
    number: str = ""  # the committee's case number (编号); "" → assigned (2024-001 …)


@dataclass(frozen=True)
class Precedent:
    """One stored record: masked, its articles verified, with its revision."""

    number: str
    title: str
    dispute_type: str
    facts: str
    agreement: str = ""
    result: str = ""
    focus: str = ""
    process: str = ""
    performance: str = ""
    articles: tuple[Citation, ...] = ()
    parties: tuple[str, ...] = ()  # masked (张某)
    date: str = ""
    region: str = ""
    committee: str = ""
    dispute_type_origin: str = "metadata"  # metadata | classifier
    created: str = ""
    updated: str = ""
    revision: int = 1

    @property
    def id(self) -> str:
        """The id of the record's Case: stable across edits."""
        return f"{ID_PREFIX}{self.number}"

    @property
    def basis(self) -> str:
        """The articles relied on, in citation form, as the 法律依据 column writes them."""
        return "；".join(c.raw for c in self.articles)

    def to_draft(self) -> PrecedentDraft:
        """This record as a draft to edit; a dispute type the classifier chose is left
        empty, so it is chosen again from the edited facts."""
        return PrecedentDraft(
            number=self.number,
            title=self.title,
            dispute_type=self.dispute_type if self.dispute_type_origin == "metadata" else "",
            date=self.date,
            region=self.region,
            committee=self.committee,
            parties=self.parties,
            facts=self.facts,
            focus=self.focus,
            process=self.process,
            result=self.result,
            agreement=self.agreement,
            performance=self.performance,
            articles=tuple(c.raw for c in self.articles),
        )

    def to_case(self, file: str = "") -> Case:
        """This record as a 调解案例 (verified trust, provenance 本委员会记录)."""
        sections = tuple(
            (name, text)
            for name, text in (
                ("基本案情", self.facts),
                ("争议焦点", self.focus),
                ("调解过程", self.process),
                ("调解结果", self.result),
                ("协议内容", self.agreement),
                ("履行情况", self.performance),
                ("法律依据", self.basis),
            )
            if text
        )
        where = f"（{self.committee}）" if self.committee else ""
        return Case(
            id=self.id,
            kind=MEDIATION,
            title=self.title,
            dispute_type=self.dispute_type,
            sections=sections,
            cited=self.articles,
            source=SOURCE,
            date=self.date,
            region=self.region,
            parties=self.parties,
            dispute_type_origin=self.dispute_type_origin,
            file=file,
            trust="verified",
            provenance=f"{PROVENANCE}{where}",
        )


@dataclass(frozen=True)
class PrecedentChanges:
    """What changed after a token: cases to add or replace, ids to drop, and the new token."""

    token: int
    upserted: tuple[Case, ...] = ()
    deleted: tuple[str, ...] = ()  # case ids


@dataclass
class ImportResult:
    """What importing a committee CSV/JSONL file did; bad records are problems, not failures."""

    added: list[str] = field(default_factory=list)  # case ids
    updated: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class PrecedentStore:
    """Precedents in one SQLite file under the kb folder (WAL, one transaction per write).

    A connection per call keeps the store safe across Streamlit sessions
    (threads); ``synchronous=FULL`` makes a committed save survive a power cut,
    and a save interrupted before its commit leaves nothing behind. Every write
    appends to a change log, so a searcher can pick up new, edited and deleted
    records without a rebuild (``changed_since``).

    Args:
        path: the SQLite file.
        articles: the knowledge base's articles, to verify the articles a
            record relies on (each must resolve) and to re-check them on read.
    """

    def __init__(self, path: str | Path, articles: ArticleIndex) -> None:
        self.path = Path(path)
        self.index = articles
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise PrecedentError(
                    f"调解案例库 {self.path} 由更新版本的程序创建，无法读取",
                    "请升级程序后再打开",
                )
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @classmethod
    def in_kb(cls, kb_dir: str | Path, articles: ArticleIndex) -> PrecedentStore:
        return cls(KBFolder.of(kb_dir).precedents, articles)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return userdb.connect(self.path)

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return userdb.writing(self.path)

    # ---- writing ------------------------------------------------------------------

    def add(self, draft: PrecedentDraft) -> Precedent:
        """Mask, verify and save a new record; raises PrecedentError when it cannot be saved."""
        with self._write() as db:
            number = draft.number.strip() or self._next_number(db, draft.date)
            if self._row(db, number) is not None:
                raise PrecedentError(f"编号“{number}”已存在", "换一个编号，或在原记录上修改")
            now = _now()
            record = replace(self.prepare(draft, number), created=now, updated=now, revision=1)
            self._put(db, record)
        return record

    def update(
        self, number_or_id: str, draft: PrecedentDraft, *, revision: int | None = None
    ) -> Precedent:
        """Replace a record's content (masked and verified again); its number and id stay.

        Args:
            revision: the revision the editor started from; when another save came
                in between, nothing is written and PrecedentError says so.
        """
        number = _number_of(number_or_id)
        with self._write() as db:
            old = self._row(db, number)
            if old is None:
                raise PrecedentError(f"没有编号为“{number}”的调解案例", "刷新列表后重试")
            if revision is not None and revision != old.revision:
                raise PrecedentError(
                    f"编号“{number}”已被他人修改（第 {old.revision} 版）",
                    "重新打开该记录，再做修改",
                )
            record = replace(
                self.prepare(draft, number),
                created=old.created,
                updated=_now(),
                revision=old.revision + 1,
            )
            self._put(db, record)
        return record

    def delete(self, number_or_id: str) -> None:
        """Remove a record; a later ``changed_since`` reports its case id as deleted."""
        number = _number_of(number_or_id)
        with self._write() as db:
            if self._row(db, number) is None:
                raise PrecedentError(f"没有编号为“{number}”的调解案例", "刷新列表后重试")
            db.execute("DELETE FROM precedents WHERE number = ?", (number,))
            self._log_change(db, number, "delete")

    def prepare(self, draft: PrecedentDraft, number: str) -> Precedent:
        """The record ``draft`` becomes: checked, masked, its articles resolved (nothing saved)."""
        if not _NUMBER.match(number):
            raise PrecedentError(
                f"编号“{number}”不可用", "只用汉字、字母、数字和连字符，不超过 40 个字符"
            )
        facts = draft.facts.strip()
        if not facts:
            raise PrecedentError("缺少基本案情", "写明纠纷的经过")
        if not (draft.agreement.strip() or draft.result.strip()):
            raise PrecedentError("缺少调解结果或协议内容", "写明双方达成的协议或处理结果")
        dispute_type = draft.dispute_type.strip()
        if dispute_type and dispute_type not in DISPUTE_TYPES:
            raise PrecedentError(
                f"纠纷类型“{dispute_type}”不在分类表中", f"可选：{'、'.join(DISPUTE_TYPES)}"
            )
        when = committee.normalise_date(draft.date)
        if when is None:
            raise PrecedentError(f"日期“{draft.date}”无法识别", "请写成 2024-03-15")
        articles = self._verify(draft.articles)
        anon = Anonymiser(draft.parties)
        texts = {name: anon(getattr(draft, name).strip()) for name in _TEXT_FIELDS}
        if not texts["title"]:
            texts["title"] = texts["facts"][:30] + ("…" if len(texts["facts"]) > 30 else "")
        parties = tuple(
            anon.mapping.get(p.strip()) or anon(p.strip()) for p in draft.parties if p.strip()
        )
        origin = "metadata"
        if not dispute_type:
            dispute_type = classify(
                "\n".join((texts["facts"], texts["focus"])), articles, title=texts["title"]
            ).dispute_type
            origin = "classifier"
        return Precedent(
            number=number,
            title=texts["title"],
            dispute_type=dispute_type,
            dispute_type_origin=origin,
            facts=texts["facts"],
            focus=texts["focus"],
            process=texts["process"],
            result=texts["result"],
            agreement=texts["agreement"],
            performance=texts["performance"],
            articles=articles,
            parties=parties,
            date=when,
            region=anon(draft.region.strip(), find=False),
            committee=draft.committee.strip(),
        )

    def _verify(self, given: Sequence[str]) -> tuple[Citation, ...]:
        """Each article relied on, resolved to the knowledge base, in citation form."""
        out: list[Citation] = []
        seen: set[str] = set()
        for raw in (x.strip() for x in given):
            if not raw:
                continue
            found = self.index.by_id.get(raw)
            cites = (
                [Citation(raw, found.law, found.key)]
                if found is not None
                else [c for c in extract_citations(raw) if c.law]
            )
            if not cites:
                raise PrecedentError(
                    f"法律依据“{raw}”中没有可识别的法条",
                    "写成《中华人民共和国民法典》第二百八十八条 或 民法典第288条",
                )
            for c in cites:
                checked = judge(replace(c, quotes=()), self.index)
                if checked.verdict != "ok":
                    raise PrecedentError(
                        f"法律依据“{c.raw}”无法核对：{checked.verdict_note}",
                        "只填写知识库中能查到的现行条文",
                    )
                if checked.resolved_id in seen:
                    continue
                seen.add(checked.resolved_id)
                article = self.index.by_id[checked.resolved_id]
                out.append(replace(checked, raw=article.citation + c.detail, start=0, end=0))
        return tuple(out)

    def _next_number(self, db: sqlite3.Connection, when: str) -> str:
        year = (committee.normalise_date(when) or "")[:4] or str(date.today().year)
        taken = {
            r[0]
            for r in db.execute("SELECT number FROM precedents WHERE number LIKE ?", (f"{year}-%",))
        }
        n = 1 + max((int(x[5:]) for x in taken if x[5:].isdigit()), default=0)
        return f"{year}-{n:03d}"

    def _put(self, db: sqlite3.Connection, p: Precedent) -> None:
        db.execute(
            "INSERT OR REPLACE INTO precedents (number, title, dispute_type, dispute_type_origin, "
            "facts, focus, process, result, agreement, performance, articles, parties, date, "
            "region, committee, created, updated, revision) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                p.number,
                p.title,
                p.dispute_type,
                p.dispute_type_origin,
                p.facts,
                p.focus,
                p.process,
                p.result,
                p.agreement,
                p.performance,
                json.dumps([c.to_dict() for c in p.articles], ensure_ascii=False),
                json.dumps(list(p.parties), ensure_ascii=False),
                p.date,
                p.region,
                p.committee,
                p.created,
                p.updated,
                p.revision,
            ),
        )
        self._log_change(db, p.number, "put")

    def _log_change(self, db: sqlite3.Connection, number: str, op: str) -> None:
        db.execute("INSERT INTO changes (number, op, at) VALUES (?, ?, ?)", (number, op, _now()))

    # ---- reading ------------------------------------------------------------------

    _COLUMNS = (
        "number, title, dispute_type, dispute_type_origin, facts, focus, process, result, "
        "agreement, performance, articles, parties, date, region, committee, created, updated, revision"
    )

    def _from_row(self, row: tuple[Any, ...]) -> Precedent:
        (number, title, dtype, origin, facts, focus, process, result, agreement, performance,
         articles, parties, when, region, comm, created, updated, revision) = row  # fmt: skip
        return Precedent(
            number=number,
            title=title,
            dispute_type=dtype,
            dispute_type_origin=origin,
            facts=facts,
            focus=focus,
            process=process,
            result=result,
            agreement=agreement,
            performance=performance,
            articles=tuple(Citation.from_dict(c) for c in json.loads(articles)),
            parties=tuple(json.loads(parties)),
            date=when,
            region=region,
            committee=comm,
            created=created,
            updated=updated,
            revision=revision,
        )

    def _row(self, db: sqlite3.Connection, number: str) -> Precedent | None:
        row = db.execute(
            f"SELECT {self._COLUMNS} FROM precedents WHERE number = ?", (number,)
        ).fetchone()
        return None if row is None else self._from_row(row)

    def get(self, number_or_id: str) -> Precedent | None:
        with self._connect() as db:
            return self._row(db, _number_of(number_or_id))

    def records(self) -> list[Precedent]:
        """Every record, newest first."""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {self._COLUMNS} FROM precedents ORDER BY date DESC, number DESC"
            ).fetchall()
        return [self._from_row(r) for r in rows]

    def cases(self) -> list[Case]:
        """Every record as a Case, its articles checked against the current knowledge base."""
        return self._linked([p.to_case(str(self.path)) for p in self.records()])

    def token(self) -> int:
        """The position of the last change; pass it to ``changed_since`` later."""
        with self._connect() as db:
            return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])

    def changed_since(self, token: int) -> PrecedentChanges:
        """Records written or deleted after ``token``, as cases to upsert and ids to drop."""
        with self._connect() as db:
            db.execute("BEGIN")  # one snapshot: the log and the rows agree
            rows = db.execute(
                "SELECT seq, number, op FROM changes WHERE seq > ? ORDER BY seq", (token,)
            ).fetchall()
            last: dict[str, str] = {}
            for _, number, op in rows:
                last[number] = op
            upserted = [self._row(db, n) for n, op in last.items() if op == "put"]
            db.execute("COMMIT")
        new_token = rows[-1][0] if rows else token
        cases = self._linked([p.to_case(str(self.path)) for p in upserted if p is not None])
        deleted = tuple(f"{ID_PREFIX}{n}" for n, op in last.items() if op == "delete")
        return PrecedentChanges(new_token, tuple(cases), deleted)

    def _linked(self, cases: list[Case]) -> list[Case]:
        return link_cases(cases, self.index)[0] if cases else []

    # ---- exchange with the committee format -------------------------------------------

    def export(self, path: str | Path) -> int:
        """Write every record to a committee CSV (``.csv``) or JSONL (``.jsonl``) file, atomically.

        Returns:
            The number of records written.
        """
        path = Path(path)
        records = [_record(p) for p in sorted(self.records(), key=lambda p: p.number)]
        if path.suffix.lower() == ".csv":
            buf = io.StringIO(newline="")
            writer = csv.DictWriter(buf, fieldnames=[c.header for c in committee.COLUMNS])
            writer.writeheader()
            writer.writerows(
                {k: committee.spreadsheet_cell(v) for k, v in r.items()} for r in records
            )
            data = ("\ufeff" + buf.getvalue()).encode("utf-8")
        elif path.suffix.lower() == ".jsonl":
            lines = (
                json.dumps({k: v for k, v in r.items() if v}, ensure_ascii=False) for r in records
            )
            data = "".join(line + "\n" for line in lines).encode("utf-8")
        else:
            raise PrecedentError(
                f"不支持导出为 {path.suffix or '无扩展名'} 文件", "文件名以 .csv 或 .jsonl 结尾"
            )
        _atomic_write(path, data)
        return len(records)

    def import_file(self, path: str | Path) -> ImportResult:
        """Add or update records from a committee CSV/JSONL file; a bad record never stops the rest.

        A record whose 编号 exists is updated; the others are added. Problems
        (missing fields, articles that do not resolve) name the file and line.
        """
        path = Path(path)
        result = ImportResult()
        report = IngestReport()
        suffix = path.suffix.lower()
        if suffix == ".csv":
            parsed = list(committee.iter_csv(path, report))
        elif suffix == ".jsonl":
            parsed = list(committee.iter_jsonl(path, report))
        else:
            raise PrecedentError(
                f"不支持导入 {suffix or '无扩展名'} 文件",
                "请用 .csv 或 .jsonl（格式见 kb/templates）",
            )
        result.problems.extend(report.problems)
        result.notes.extend(report.notes)
        for p in parsed:
            where = f"{p.file}:{p.line}" if p.line else p.file
            draft = _draft_from(p, _with_year(p.number, p.date))
            try:
                if self.get(draft.number) is None:
                    result.added.append(self.add(draft).id)
                else:
                    result.updated.append(self.update(draft.number, draft).id)
            except PrecedentError as err:
                result.problems.append(Problem(where, err.message, err.hint, kind="precedent"))
        return result


def _with_year(number: str, when: str) -> str:
    """A running count (``001``) with its record's year (``2024-001``), as ``add`` numbers new
    records: two years' (or two files') 001 stay two records. Other numbers stay as given."""
    year = (committee.normalise_date(when) or "")[:4]
    return f"{year}-{number}" if number.isdigit() and year else number


def _number_of(number_or_id: str) -> str:
    return number_or_id.strip().removeprefix(ID_PREFIX)


def _record(p: Precedent) -> dict[str, str]:
    """A record in the committee format's columns (Chinese headers)."""
    values = {
        "id": p.number,
        "title": p.title,
        # A classifier's guess is left blank so a re-import classifies again, as the original did.
        "dispute_type": p.dispute_type if p.dispute_type_origin == "metadata" else "",
        "date": p.date,
        "region": p.region,
        "committee": p.committee,
        "parties": "、".join(p.parties),
        "facts": p.facts,
        "focus": p.focus,
        "process": p.process,
        "result": p.result,
        "agreement": p.agreement,
        "performance": p.performance,
        "basis": p.basis,
        "sample": "",
    }
    return {c.header: values[c.key] for c in committee.COLUMNS}


def _draft_from(p: Any, number: str) -> PrecedentDraft:
    """A committee record read by ``ingest.cases.committee`` → a draft for the store."""
    sections = dict(p.sections)
    comm = ""
    if p.source.startswith(committee.SOURCE + "（"):
        comm = p.source[len(committee.SOURCE) + 1 :].split("）")[0]
    basis = sections.get("法律依据", "")
    return PrecedentDraft(
        number=number,
        title=p.title,
        dispute_type=p.dispute_type,
        facts=sections.get("基本案情", ""),
        focus=sections.get("争议焦点", ""),
        process=sections.get("调解过程", ""),
        result=sections.get("调解结果", ""),
        agreement=sections.get("协议内容", ""),
        performance=sections.get("履行情况", ""),
        articles=tuple(x for x in re.split(r"[；;\n]+", basis) if x.strip()),
        parties=p.parties,
        date=p.date,
        region=p.region,
        committee=comm,
    )


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Precedents:
    """The committee's recorded cases of a loaded knowledge base: read, write, check, searched.

    Every write goes to the store, then into the searched cases (``apply``) before it
    returns, so the next question finds it; ``sync`` brings in what another process or
    browser session wrote (one read of the change log when nothing changed).

    Args:
        store: the SQLite store.
        apply: takes the cases written and the case ids deleted since the last sync and
            makes the searched case corpus hold them.
        case: the searched case of an id, as the next question would show it.
    """

    def __init__(
        self,
        store: PrecedentStore,
        apply: Callable[[PrecedentChanges], None],
        case: Callable[[str], Case | None],
    ) -> None:
        self.store = store
        self._apply = apply
        self._case = case
        self.token = 0
        self._lock = threading.Lock()

    def sync(self) -> int:
        """Bring recorded, edited and deleted records into the searched cases; how many changed."""
        with self._lock:
            changes = self.store.changed_since(self.token)
            if changes.upserted or changes.deleted:
                self._apply(changes)
            self.token = changes.token
        return len(changes.upserted) + len(changes.deleted)

    def records(self) -> list[Precedent]:
        """Every recorded case, newest first (masked, as stored)."""
        return self.store.records()

    def get(self, number_or_id: str) -> Precedent | None:
        return self.store.get(number_or_id)

    def preview(self, draft: PrecedentDraft) -> Precedent:
        """What ``draft`` would be saved as (masked, articles verified); nothing is written.

        Raises:
            PrecedentError: what would stop the save (a citation that does not resolve …).
        """
        return self.store.prepare(draft, draft.number.strip() or "预览")

    def record(self, draft: PrecedentDraft) -> Case:
        """Save a mediator's resolved dispute (masked, articles verified); searchable at once."""
        return self._searched(self.store.add(draft))

    def update(
        self, number_or_id: str, draft: PrecedentDraft, *, revision: int | None = None
    ) -> Case:
        """Replace a recorded case's content (masked and verified again); searchable at once."""
        return self._searched(self.store.update(number_or_id, draft, revision=revision))

    def delete(self, number_or_id: str) -> None:
        """Remove a recorded case; the next question no longer finds it."""
        self.store.delete(number_or_id)
        self.sync()

    def export(self, fmt: str) -> bytes:
        """Every recorded case in the committee format: ``"csv"`` (UTF-8 with BOM) or ``"jsonl"``."""
        with tempfile.TemporaryDirectory(prefix="fengqiao-export-") as tmp:
            path = Path(tmp) / f"调解案例.{fmt}"
            self.store.export(path)
            return path.read_bytes()

    def import_file(self, name: str, data: bytes) -> ImportResult:
        """Add or update recorded cases from a committee CSV/JSONL file's bytes.

        Problems name the file by ``name`` and line (never a temporary copy); a bad record
        never stops the rest. What was taken in is searchable at once.
        """
        from ingest.dropin import safe_name

        safe = safe_name(name)
        with tempfile.TemporaryDirectory(prefix="fengqiao-import-") as tmp:
            path = Path(tmp) / safe
            path.write_bytes(data)
            result = self.store.import_file(path)
        result.problems = [
            replace(p, where=p.where.replace(str(path), safe)) for p in result.problems
        ]
        self.sync()
        return result

    def _searched(self, saved: Precedent) -> Case:
        self.sync()
        found = self._case(saved.id)
        return found if found is not None else saved.to_case()


def joiner(
    cases: CaseCorpus, embedder: Embedder, tokenizer: JiebaTokenizer, cache_dir: Path
) -> Callable[[PrecedentChanges], None]:
    """``Precedents``'s ``apply`` for a searched case corpus: drop the deleted cases, embed
    and index the written ones now (vectors from the build's embedding cache when known)."""

    def apply(changes: PrecedentChanges) -> None:
        from retrieval.build import embed_units
        from retrieval.encoders.embcache import EmbeddingCache
        from retrieval.units import case_units

        if changes.deleted:
            cases.remove(changes.deleted)
        if changes.upserted:
            written = changes.upserted
            units = case_units(written)
            vectors = embed_units(units, embedder, EmbeddingCache(cache_dir, embedder.key))
            tokens = tokenizer.tokenize_many(u.keywords for u in units)
            cases.upsert(written, units, case_rows(written, units), vectors, tokens)

    return apply


__all__ = [
    "FILENAME",
    "ImportResult",
    "Precedent",
    "PrecedentChanges",
    "PrecedentDraft",
    "PrecedentError",
    "PrecedentStore",
    "Precedents",
    "joiner",
]
