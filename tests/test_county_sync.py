"""Committees' records up to a real PostgreSQL county store: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from ingest.cases.link import ArticleIndex
from ingest.names import article_label
from ingest.records import Article, article_id
from retrieval.county import schema, store
from retrieval.county import sync as county_sync
from retrieval.county.sync import Identity
from retrieval.errors import CountyError
from retrieval.precedents import PrecedentDraft, PrecedentStore
from tests import pgserver
from ui import cli


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with pgserver.server_for_tests() as uri:
        yield uri


@pytest.fixture
def uri(pg_server: str) -> str:
    return pgserver.fresh_database(pg_server)


def _art(law: str, number: int, text: str) -> Article:
    return Article(
        id=article_id(law, number),
        law=law,
        law_title=f"中华人民共和国{law}",
        number=number,
        suffix="",
        label=article_label(number),
        text=text,
    )


ARTICLES = ArticleIndex(
    [
        _art("民法典", 288, "不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，正确处理相邻关系。"),
        _art("民法典", 1079, "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。"),
    ]
)  # fmt: skip

EAST = Identity("东村人民调解委员会", "清河镇", "枫桥县")
WEST = Identity("西村人民调解委员会", "白沙镇", "枫桥县")


def committee_kb(folder: Path, n: int, *, month: int = 3) -> PrecedentStore:
    """A committee's kb folder holding ``n`` recorded neighbour disputes."""
    precedents = PrecedentStore.in_kb(folder, ARTICLES)
    for i in range(n):
        precedents.add(
            PrecedentDraft(
                number=f"2024-{i + 1:03d}",
                facts=f"2024年{month}月1日，张三丰称邻居李四光在院墙边堆放柴草第{i}次，堵住通道。",
                agreement="李四光三日内清理柴草，恢复通道。",
                performance="已履行。",
                articles=("民法典第288条",),
                parties=("张三丰", "李四光"),
                dispute_type="邻里关系",
                date=f"2024-{month:02d}-{10 + i % 15:02d}",
            )
        )
    return precedents


def county_rows(uri: str) -> dict[str, int]:
    with schema.connect(uri) as conn:
        return store.counts(conn)


def dump(uri: str) -> str:
    with schema.connect(uri) as conn:
        return store.dump(conn)


def test_migrations_upgrade_from_empty_and_from_version_1(uri: str) -> None:
    assert schema.migrate(uri, to=1) == 1
    with schema.connect(uri) as conn, conn.transaction():
        conn.execute(
            "INSERT INTO records (committee, number, revision, digest, dispute_type, settled, "
            "outcome, performance_status, cited) VALUES ('甲村', '1', 1, 'x', '邻里关系', "
            "'2024-03-05', 'success', 'performed', '{民法典:288}')"
        )
    assert schema.migrate(uri) == schema.LATEST == 2
    with schema.connect(uri) as conn:
        # version 2's aggregates are filled from the records version 1 held
        assert conn.execute("SELECT n, success, performed FROM monthly_stats").fetchall() == [
            (1, 1, 1)
        ]
        assert conn.execute("SELECT article, n FROM monthly_articles").fetchall() == [
            ("民法典:288", 1)
        ]
        versions = conn.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    assert versions == [(1,), (2,)]
    assert schema.migrate(uri) == 2  # a second run applies nothing
    fresh = uri.rsplit("/", 1)[0] + "/postgres"
    other = pgserver.fresh_database(fresh)
    assert schema.migrate(other) == 2  # from empty straight to the latest


def test_a_store_newer_than_the_program_is_refused(uri: str) -> None:
    schema.migrate(uri)
    with schema.connect(uri) as conn, conn.transaction():
        conn.execute("INSERT INTO schema_version (version, name) VALUES (99, 'future.sql')")
    with pytest.raises(CountyError, match="比本程序"):
        schema.migrate(uri)


def test_synthetic_and_real_stores_never_mix(uri: str) -> None:
    schema.migrate(uri, schema.DEMO_SCHEMA, kind="synthetic")
    with pytest.raises(CountyError, match="合成演示数据"):
        schema.migrate(uri, schema.DEMO_SCHEMA, kind="real")


def test_two_committees_sync_and_a_resync_changes_nothing(uri: str, tmp_path: Path) -> None:
    committee_kb(tmp_path / "east", 7)
    committee_kb(tmp_path / "west", 5, month=4)
    a = county_sync.sync(tmp_path / "east", uri, EAST, batch_size=3)
    b = county_sync.sync(tmp_path / "west", uri, WEST, batch_size=3)
    assert (a.added, a.batches, b.added) == (7, 3, 5)
    assert county_rows(uri) == {EAST.committee: 7, WEST.committee: 5}
    with schema.connect(uri) as conn:
        total = conn.execute("SELECT sum(n) FROM monthly_stats").fetchone()
        towns = conn.execute("SELECT DISTINCT town FROM records ORDER BY 1").fetchall()
        masked = conn.execute("SELECT count(*) FROM records WHERE facts LIKE '%张三丰%'").fetchone()
    assert total == (12,)  # county counts = the sum of the committees' records
    assert towns == [("清河镇",), ("白沙镇",)]
    assert masked == (0,)  # only masked text goes up
    before = dump(uri)
    again = county_sync.sync(tmp_path / "east", uri, EAST, batch_size=3)
    assert (again.changed, again.unchanged, again.batches) == (0, 7, 0)
    assert dump(uri) == before


def test_an_edit_updates_by_revision_and_a_delete_withdraws(uri: str, tmp_path: Path) -> None:
    precedents = committee_kb(tmp_path / "east", 4)
    county_sync.sync(tmp_path / "east", uri, EAST)
    old = precedents.get("2024-002")
    assert old is not None
    precedents.update("2024-002", replace(old.to_draft(), performance="未履行，李四光反悔。"))
    precedents.delete("2024-004")
    report = county_sync.sync(tmp_path / "east", uri, EAST)
    assert (report.added, report.updated, report.withdrawn, report.unchanged) == (0, 1, 1, 2)
    with schema.connect(uri) as conn:
        rows = conn.execute(
            "SELECT number, revision, performance_status, withdrawn FROM records ORDER BY number"
        ).fetchall()
        performed = conn.execute("SELECT sum(n), sum(performed) FROM monthly_stats").fetchone()
    assert rows[1] == ("2024-002", 2, "breached", False)
    assert rows[3] == ("2024-004", 1, "performed", True)
    assert performed == (3, 2)  # the withdrawn record no longer counts
    assert county_rows(uri) == {EAST.committee: 3}


def test_a_sync_killed_halfway_resumes_without_doubling(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    committee_kb(tmp_path / "east", 10)
    real_copy = store.copy_records
    calls = {"n": 0}

    def dies_in_third_batch(conn: psycopg.Connection, records: list[object]) -> None:
        calls["n"] += 1
        real_copy(conn, records)  # type: ignore[arg-type]
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the power goes in the middle of batch 3

    monkeypatch.setattr(store, "copy_records", dies_in_third_batch)
    with pytest.raises(KeyboardInterrupt):
        county_sync.sync(tmp_path / "east", uri, EAST, batch_size=3)
    monkeypatch.setattr(store, "copy_records", real_copy)
    assert county_rows(uri) == {EAST.committee: 6}  # two whole batches, none of the third
    with schema.connect(uri) as conn:
        assert store.token(conn, EAST.committee) == 0  # not marked finished
    resumed = county_sync.sync(tmp_path / "east", uri, EAST, batch_size=3)
    assert (resumed.added, resumed.unchanged, resumed.batches) == (4, 6, 2)
    assert county_rows(uri) == {EAST.committee: 10}
    with schema.connect(uri) as conn:
        assert conn.execute("SELECT sum(n) FROM monthly_stats").fetchone() == (10,)


def test_a_usb_bundle_imported_twice_changes_nothing(uri: str, tmp_path: Path) -> None:
    committee_kb(tmp_path / "west", 6)
    bundle = tmp_path / "usb" / "west.zip"
    assert county_sync.export_bundle(tmp_path / "west", WEST, bundle) == 6
    first = county_sync.import_bundle(bundle, uri)
    assert first.added == 6
    before = dump(uri)
    second = county_sync.import_bundle(bundle, uri)
    assert (second.changed, second.unchanged) == (0, 6)
    assert dump(uri) == before
    assert county_rows(uri) == {WEST.committee: 6}


def test_an_older_bundle_is_refused(uri: str, tmp_path: Path) -> None:
    precedents = committee_kb(tmp_path / "west", 2)
    old = tmp_path / "old.zip"
    county_sync.export_bundle(tmp_path / "west", WEST, old)
    precedents.delete("2024-001")
    new = tmp_path / "new.zip"
    county_sync.export_bundle(tmp_path / "west", WEST, new)
    assert county_sync.import_bundle(new, uri).added == 1
    with pytest.raises(CountyError, match="比县里已有的"):
        county_sync.import_bundle(old, uri)
    assert county_rows(uri) == {WEST.committee: 1}


def _rewrite(bundle: Path, out: Path, edit: str) -> None:
    with zipfile.ZipFile(bundle) as z:
        manifest = json.loads(z.read("manifest.json"))
        lines = z.read("records.jsonl").decode().splitlines()
    if edit == "bad-line":
        lines[2] = lines[2].replace('"revision": 1', '"revision": "一"')
        import hashlib

        body = ("\n".join(lines) + "\n").encode()
        manifest["records_sha256"] = hashlib.sha256(body).hexdigest()
    else:  # tampered: the checksum no longer matches
        body = ("\n".join(lines[:-1]) + "\n").encode()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr("records.jsonl", body)


def test_a_bad_bundle_stops_with_one_line_naming_file_and_line(
    uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    committee_kb(tmp_path / "west", 4)
    good = tmp_path / "west.zip"
    county_sync.export_bundle(tmp_path / "west", WEST, good)
    _rewrite(good, tmp_path / "bad.zip", "bad-line")
    _rewrite(good, tmp_path / "cut.zip", "tampered")
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    for name, expected in (
        ("bad.zip", "同步包 bad.zip:records.jsonl 第 3 行 无效：revision 应为正整数"),
        ("cut.zip", "同步包 cut.zip:records.jsonl 校验和不符"),
        ("junk.zip", "同步包 junk.zip 不是有效的 zip 文件"),
    ):
        code = cli.main(["sync", "--import", str(tmp_path / name), "--to", uri])
        err = capsys.readouterr().err.strip()
        assert code == 1
        assert err.startswith(f"错误：{expected}")
        assert "\n" not in err
    assert schema.version(psycopg.connect(uri, options="-c search_path=county")) == 0


def test_cli_remembers_the_committee_and_resyncs(
    uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = tmp_path / "east"
    committee_kb(kb, 3)
    args = ["sync", "--kb", str(kb), "--to", uri]
    assert cli.main(args) == 1
    assert "缺少调委会名称" in capsys.readouterr().err
    who = ["--committee", EAST.committee, "--town", EAST.town, "--county", EAST.county]
    assert cli.main(args + who) == 0
    assert "新增 3，更新 0，撤回 0，未变 0" in capsys.readouterr().out
    assert cli.main(args) == 0  # the committee was remembered in county.json
    assert "新增 0，更新 0，撤回 0，未变 3" in capsys.readouterr().out
    bad = cli.main(["sync", "--kb", str(kb), "--to", "postgresql://nobody@127.0.0.1:1/x"])
    err = capsys.readouterr().err
    assert bad == 1 and err.startswith("错误：无法连接县级数据库") and err.count("\n") == 1


def test_demo_fills_only_the_separate_synthetic_store(
    uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sync", "--demo", "--to", uri, "--records", "400"]) == 0
    assert "合成记录" in capsys.readouterr().out
    with schema.connect(uri, schema.DEMO_SCHEMA) as conn:
        rows = conn.execute("SELECT count(*), bool_and(synthetic) FROM records").fetchone()
    assert rows is not None and rows[0] > 300 and rows[1] is True
    schema.migrate(uri)
    assert county_rows(uri) == {}  # the real store holds none of them


def test_a_record_moved_to_another_month_is_recounted_in_both(uri: str, tmp_path: Path) -> None:
    precedents = committee_kb(tmp_path / "east", 3)
    county_sync.sync(tmp_path / "east", uri, EAST)
    old = precedents.get("2024-003")
    assert old is not None
    precedents.update("2024-003", replace(old.to_draft(), date="2024-05-02"))
    county_sync.sync(tmp_path / "east", uri, EAST)
    with schema.connect(uri) as conn:
        months = conn.execute("SELECT month, n FROM monthly_stats ORDER BY month").fetchall()
    assert [(m.month, n) for m, n in months] == [(3, 2), (5, 1)]


def test_a_sync_process_killed_in_the_middle_of_a_batch_resumes(uri: str, tmp_path: Path) -> None:
    """A real `fengqiao sync` process, SIGKILLed while a batch's transaction is open."""
    import os
    import signal
    import subprocess
    import sys
    import time

    kb = tmp_path / "east"
    committee_kb(kb, 150)  # dates 2024-03-10 … 24; sent in date order, one record a batch
    schema.migrate(uri)
    # A row the sync will update about halfway through (2024-008 is dated 2024-03-17),
    # locked here: that batch's transaction waits on it, and is killed while it waits.
    blocker = psycopg.connect(uri, options="-c search_path=county")
    blocker.execute(
        "INSERT INTO records (committee, number, revision, digest, dispute_type, outcome, "
        "performance_status) VALUES (%s, '2024-008', 1, 'old', '邻里关系', 'success', 'unknown')",
        (EAST.committee,),
    )
    blocker.commit()
    blocker.execute("SELECT 1 FROM records WHERE number = '2024-008' FOR UPDATE")
    who = ["--committee", EAST.committee, "--town", EAST.town, "--county", EAST.county]
    cmd = [sys.executable, "-m", "ui.cli", "sync", "--kb", str(kb), "--to", uri, "--batch", "1"]
    proc = subprocess.Popen(cmd + who, cwd=Path(__file__).resolve().parents[1])
    watch = psycopg.connect(uri, autocommit=True)
    deadline = time.monotonic() + 120
    waiting = 0
    while not waiting and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        row = watch.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        ).fetchone()
        waiting = row[0] if row else 0
    os.kill(proc.pid, signal.SIGKILL)  # the power goes: no clean-up of any kind
    proc.wait()
    blocker.rollback()
    blocker.close()
    assert waiting and proc.returncode == -signal.SIGKILL
    time.sleep(0.5)  # the killed client's server process ends its open transaction
    partial = county_rows(uri)[EAST.committee] - 1  # the blocker row is not one of them
    assert 30 <= partial < 140  # whole batches before 2024-03-17, none of the killed one
    with schema.connect(uri) as conn:
        assert store.token(conn, EAST.committee) == 0  # not marked finished
        assert conn.execute("SELECT sum(n) FROM monthly_stats").fetchone() == (partial,)
        assert conn.execute("SELECT digest FROM records WHERE number = '2024-008'").fetchone() == (
            "old",
        )
    watch.close()
    resumed = county_sync.sync(kb, uri, EAST, batch_size=7)
    assert (resumed.added, resumed.updated, resumed.unchanged) == (149 - partial, 1, partial)
    assert county_rows(uri) == {EAST.committee: 150}
    with schema.connect(uri) as conn:
        assert conn.execute("SELECT sum(n) FROM monthly_stats").fetchone() == (150,)


def test_outcome_performance_and_dates_are_read_from_what_the_committee_wrote() -> None:
    from retrieval.county.records import outcome_of, performance_of, received_of, settled_date

    assert outcome_of("双方达成协议", "李某赔偿 500 元") == "success"
    assert outcome_of("调解不成，告知当事人可向法院起诉", "") == "failed"
    assert performance_of("已当场履行完毕") == "performed"
    assert performance_of("已付 2000 元，剩余分期支付") == "partial"
    assert performance_of("李某反悔，未履行") == "breached"
    assert performance_of("") == "unknown"
    assert settled_date("2024-03") == "2024-03-01" and settled_date("") == ""
    facts = "2024年2月20日，张某申请调解；2023年1月5日曾发生争执。"
    assert received_of("2024-03-05", facts) == "2024-02-20"  # over a year before: not the intake
    assert received_of("2024-03-05", "2024年4月1日回访") == ""  # after the settlement: not it
