"""Committees' records up to the county: over the network, or as a checksummed bundle on a USB stick.

Both routes reconcile a committee's full set of records with what the county holds:
a record the county lacks is added, one with a newer revision (or other content) is
updated, one the committee deleted is withdrawn, and everything else is left alone, so
running a sync or importing a bundle twice changes nothing. The changes go in batches,
each one transaction (records, aggregates and a sync-log row together); a sync killed
halfway leaves whole batches behind and the next run sends only what is still missing.
The committee's change position (token) is stored last: it marks a finished sync.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from ingest.atomic import write_bytes
from ingest.cases.link import ArticleIndex
from retrieval.county import schema, store
from retrieval.county.records import CountyRecord, from_precedent
from retrieval.errors import CountyError
from retrieval.kb_folder import KBFolder
from retrieval.precedents import PrecedentStore

BUNDLE_FORMAT = 1
MANIFEST = "manifest.json"
RECORDS = "records.jsonl"
BATCH = 200


@dataclass(frozen=True)
class Identity:
    """Who is syncing: the committee's name and where it sits."""

    committee: str
    town: str
    county: str

    def check(self) -> Identity:
        for value, name in (
            (self.committee, "调委会名称"),
            (self.town, "乡镇"),
            (self.county, "县"),
        ):
            if not value.strip():
                raise CountyError(
                    f"缺少{name}", "第一次同步时写明 --committee 调委会 --town 乡镇 --county 县"
                )
        return Identity(self.committee.strip(), self.town.strip(), self.county.strip())


@dataclass(frozen=True)
class SyncReport:
    """What one sync or import did."""

    committee: str
    added: int = 0
    updated: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    batches: int = 0
    token: int = 0

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.withdrawn


def local_records(kb_dir: Path, who: Identity) -> tuple[list[CountyRecord], int]:
    """The committee store's records as county records, and its change position."""
    path = KBFolder.of(kb_dir).precedents
    if not path.exists():
        raise CountyError(
            f"没有找到调解案例库 {path}", "先在“调解案例”页记录案例，或用 --kb 指定知识库"
        )
    # Reading needs no articles: the records were verified when they were saved.
    precedents = PrecedentStore(path, ArticleIndex([]))
    pos = precedents.token()
    records = [
        from_precedent(p, committee=who.committee, town=who.town, county=who.county)
        for p in precedents.records()
    ]
    return records, pos


def reconcile(
    conn: psycopg.Connection,
    who: Identity,
    records: Sequence[CountyRecord],
    *,
    token: int,
    route: str,
    batch_size: int = BATCH,
    bundle_sha256: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> SyncReport:
    """Make the county's copy of ``who``'s records equal ``records``; see the module docstring."""
    # Each batch must commit on its own: inside an open transaction psycopg's
    # conn.transaction() is only a savepoint, and a killed sync would lose them all.
    if not conn.autocommit:
        conn.commit()
        conn.autocommit = True
    # One sync per committee at a time: a second one waits, then finds nothing left to do.
    conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (who.committee,))
    try:
        return _reconcile(conn, who, records, token, route, batch_size, bundle_sha256, progress)
    finally:
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (who.committee,))


def _reconcile(
    conn: psycopg.Connection,
    who: Identity,
    records: Sequence[CountyRecord],
    token: int,
    route: str,
    batch_size: int,
    bundle_sha256: str,
    progress: Callable[[int, int], None] | None,
) -> SyncReport:
    have = store.held(conn, who.committee)
    wanted = {r.number: r for r in records}
    if len(wanted) != len(records):
        raise CountyError(f"{who.committee} 的记录中有重复编号", "检查调解案例库")
    push: list[CountyRecord] = []
    added = updated = 0
    for r in records:
        h = have.get(r.number)
        if h is None:
            push.append(r)
            added += 1
        elif (
            h.withdrawn
            or r.revision > h.revision
            or (r.revision == h.revision and r.digest != h.digest)
        ):
            push.append(r)
            updated += 1
    gone = sorted(n for n, h in have.items() if not h.withdrawn and n not in wanted)
    # In date order, so each batch touches a month or two of the aggregates.
    push.sort(key=lambda r: (r.settled, r.number))
    unchanged = len(records) - len(push)
    state = store.token(conn, who.committee)
    batches = [push[i : i + batch_size] for i in range(0, len(push), batch_size)] or [[]]
    if not push and not gone and state == token:
        return SyncReport(who.committee, unchanged=unchanged, token=token)
    for i, batch in enumerate(batches, start=1):
        last = i == len(batches)
        with conn.transaction():
            numbers = [r.number for r in batch] + (gone if last else [])
            months = store.months_of(conn, who.committee, numbers)  # before: where they were
            store.copy_records(conn, batch)
            if last:
                store.withdraw(conn, who.committee, gone)
                store.set_state(
                    conn, who.committee, county=who.county, town=who.town, token=token, route=route
                )
            months |= store.months_of(conn, who.committee, numbers)  # after: where they are
            store.refresh_aggregates(conn, [who.committee], months)
            new = sum(1 for r in batch if r.number not in have)
            store.log_batch(
                conn,
                who.committee,
                route=route,
                batch=i,
                added=new,
                updated=len(batch) - new,
                withdrawn=len(gone) if last else 0,
                token=token if last else 0,
                bundle_sha256=bundle_sha256,
            )
        if progress is not None:
            progress(i, len(batches))
    return SyncReport(who.committee, added, updated, len(gone), unchanged, len(batches), token)


def sync(
    kb_dir: Path,
    uri: str,
    who: Identity,
    *,
    batch_size: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> SyncReport:
    """Push the committee's recorded cases in ``kb_dir`` to the county store at ``uri``."""
    who = who.check()
    records, pos = local_records(kb_dir, who)
    schema.migrate(uri)
    with schema.connect(uri) as conn:
        return reconcile(
            conn, who, records, token=pos, route="network", batch_size=batch_size, progress=progress
        )


# ---- the USB route -----------------------------------------------------------------


def export_bundle(kb_dir: Path, who: Identity, path: Path) -> int:
    """Write the committee's records to a bundle (zip: manifest + records.jsonl), atomically.

    Returns:
        The number of records written.
    """
    who = who.check()
    records, pos = local_records(kb_dir, who)
    body = "".join(
        json.dumps(r.to_dict(), ensure_ascii=False, sort_keys=True) + "\n" for r in records
    ).encode("utf-8")
    manifest = {
        "format": BUNDLE_FORMAT,
        "committee": who.committee,
        "town": who.town,
        "county": who.county,
        "token": pos,
        "count": len(records),
        "records_sha256": hashlib.sha256(body).hexdigest(),
        "created": datetime.now().isoformat(timespec="seconds"),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        z.writestr(RECORDS, body)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_bytes(Path(path), buf.getvalue())
    return len(records)


@dataclass(frozen=True)
class Bundle:
    who: Identity
    token: int
    records: tuple[CountyRecord, ...]
    sha256: str


def read_bundle(path: Path) -> Bundle:
    """A bundle checked whole (checksum, every line); a CountyError names the file and line."""
    path = Path(path)
    name = path.name

    def bad(where: str, what: str) -> CountyError:
        return CountyError(
            f"同步包 {name}{where} {what}",
            "重新在村里运行 fengqiao sync --export 导出，再拷贝一次",
        )

    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            for needed in (MANIFEST, RECORDS):
                if needed not in names:
                    raise bad("", f"缺少 {needed}")
            raw_manifest = z.read(MANIFEST)
            body = z.read(RECORDS)
    except FileNotFoundError:
        raise CountyError(f"找不到同步包 {path}", "检查U盘上的文件名") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise bad("", f"不是有效的 zip 文件（{exc}）") from None
    try:
        manifest = json.loads(raw_manifest.decode("utf-8"))
        fmt = manifest["format"]
        who = Identity(manifest["committee"], manifest["town"], manifest["county"]).check()
        token, count, digest = (
            int(manifest["token"]),
            int(manifest["count"]),
            manifest["records_sha256"],
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, CountyError) as exc:
        raise bad(f":{MANIFEST}", f"内容无效（{exc}）") from None
    if fmt != BUNDLE_FORMAT:
        raise bad(f":{MANIFEST}", f"格式版本 {fmt} 不是本程序能读的 {BUNDLE_FORMAT}")
    sha = hashlib.sha256(body).hexdigest()
    if sha != digest:
        raise bad(f":{RECORDS}", "校验和不符（文件已损坏或被改动）")
    records: list[CountyRecord] = []
    for line_no, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("不是一个 JSON 对象")
            record = CountyRecord.from_dict(data)
        except ValueError as exc:
            raise bad(f":{RECORDS} 第 {line_no} 行", f"无效：{exc}") from None
        if record.committee != who.committee or record.synthetic:
            raise bad(f":{RECORDS} 第 {line_no} 行", "不属于本包的调委会")
        records.append(record)
    if len(records) != count:
        raise bad(f":{MANIFEST}", f"记录数 {count} 与实际 {len(records)} 不符")
    return Bundle(who, token, tuple(records), sha)


def import_bundle(
    path: Path,
    uri: str,
    *,
    batch_size: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> SyncReport:
    """Bring a committee's bundle into the county store; an older bundle than the last one is refused."""
    bundle = read_bundle(path)
    schema.migrate(uri)
    with schema.connect(uri) as conn:
        held_token = store.token(conn, bundle.who.committee)
        if bundle.token < held_token:
            raise CountyError(
                f"同步包 {Path(path).name} 比县里已有的 {bundle.who.committee} 记录旧"
                f"（包的位置 {bundle.token} < 已同步 {held_token}）",
                "用村里最新导出的同步包",
            )
        return reconcile(
            conn,
            bundle.who,
            bundle.records,
            token=bundle.token,
            route="bundle",
            batch_size=batch_size,
            bundle_sha256=bundle.sha256,
            progress=progress,
        )
