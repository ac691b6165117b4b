"""The committee's precedent store: masking, verified articles, edits, change log, exchange, crash safety."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ingest.cases import load_cases
from ingest.cases.link import ArticleIndex
from ingest.names import article_label
from ingest.records import MEDIATION, Article, IngestReport, article_id
from retrieval.precedents import (
    FILENAME,
    Precedent,
    PrecedentDraft,
    PrecedentError,
    PrecedentStore,
)

REPO = Path(__file__).resolve().parents[1]


def art(law: str, number: int, text: str, title: str = "") -> Article:
    return Article(
        id=article_id(law, number),
        law=law,
        law_title=title or f"中华人民共和国{law}",
        number=number,
        suffix="",
        label=article_label(number),
        text=text,
    )


ARTICLES = [
    art(
        "民法典",
        288,
        "不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，正确处理相邻关系。",
    ),
    art(
        "民法典", 1079, "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。"
    ),
    art(
        "噪声污染防治法", 66, "对已竣工交付使用的住宅楼进行室内装修活动，应当按照规定限定作业时间。"
    ),
]


def index() -> ArticleIndex:
    return ArticleIndex(ARTICLES)


NOISE = PrecedentDraft(
    facts="申请人张三丰住某小区301室，楼上住户李四光装修期间每天早7点至晚9点施工，电话13812345678。",
    focus="装修施工时间是否合理。",
    process="调解员到现场查看，向双方讲解相邻关系的规定。",
    agreement="李四光每日施工时间限定在8:00-12:00、14:00-18:00，并向张三丰赔礼道歉。",
    performance="已履行。",
    articles=("《中华人民共和国民法典》第二百八十八条", "噪声污染防治法第66条"),
    parties=("张三丰", "李四光"),
    dispute_type="邻里关系",
    date="2024年3月15日",
    region="浙江省诸暨市",
    committee="枫桥镇人民调解委员会",
)


@pytest.fixture
def store(tmp_path: Path) -> PrecedentStore:
    return PrecedentStore.in_kb(tmp_path / "kb", index())


def disk_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob(f"{FILENAME}*")))


def test_a_record_is_masked_verified_and_becomes_a_mediation_case(store: PrecedentStore) -> None:
    p = store.add(NOISE)
    assert p.number == "2024-001" and p.id == "precedent-2024-001" and p.revision == 1
    assert p.parties == ("张某某", "李某某")
    for text in (p.facts, p.agreement):
        assert "张三丰" not in text and "李四光" not in text
    assert "[手机号]" in p.facts and p.date == "2024-03-15"
    assert [c.resolved_id for c in p.articles] == ["民法典:288", "噪声污染防治法:66"]
    assert (
        p.basis
        == "《中华人民共和国民法典》第二百八十八条；《中华人民共和国噪声污染防治法》第六十六条"
    )
    # The real names never reach the disk, not even the write-ahead log.
    raw = disk_bytes(store.path.parent)
    assert "张三丰".encode() not in raw and "李四光".encode() not in raw
    (case,) = store.cases()
    assert case.id == p.id and case.kind == MEDIATION and case.trust == "verified"
    assert case.provenance == "本委员会记录（枫桥镇人民调解委员会）"
    assert case.outcome.startswith("李某某每日施工") and case.verified
    assert case.cited_ids == ("民法典:288", "噪声污染防治法:66")
    assert all(c.verdict == "ok" for c in case.cited)


def test_articles_must_resolve_and_nothing_is_written_otherwise(store: PrecedentStore) -> None:
    token = store.token()
    bad = [
        ("民法典第9999条", "没有第9999条"),
        ("《宅基地条例》第十六条", "知识库中没有"),
        ("婚姻法第三十二条", "已废止"),
        ("请参照相关规定", "没有可识别的法条"),
    ]
    for raw, why in bad:
        with pytest.raises(PrecedentError) as err:
            store.add(replace(NOISE, articles=(raw,)))
        assert why in str(err.value) and "建议" in str(err.value)
    with pytest.raises(PrecedentError, match="缺少调解结果"):
        store.add(replace(NOISE, agreement=""))
    with pytest.raises(PrecedentError, match="纠纷类型"):
        store.add(replace(NOISE, dispute_type="吵架"))
    assert store.records() == [] and store.token() == token
    # An article id is accepted as is; the classifier fills a missing type.
    p = store.add(replace(NOISE, articles=("民法典:1079",), dispute_type=""))
    assert p.articles[0].raw == "《中华人民共和国民法典》第一千零七十九条"
    assert p.dispute_type == "邻里关系" and p.dispute_type_origin == "classifier"


def test_numbers_are_assigned_per_year_and_unique(store: PrecedentStore) -> None:
    assert store.add(NOISE).number == "2024-001"
    assert store.add(NOISE).number == "2024-002"
    assert store.add(replace(NOISE, date="2023-05-01")).number == "2023-001"
    assert store.add(replace(NOISE, number="枫调字-7")).id == "precedent-枫调字-7"
    with pytest.raises(PrecedentError, match="已存在"):
        store.add(replace(NOISE, number="2024-001"))
    with pytest.raises(PrecedentError, match="编号"):
        store.add(replace(NOISE, number="a b/c"))


def test_edit_and_delete_with_the_change_log(store: PrecedentStore) -> None:
    first = store.add(NOISE)
    token = store.token()
    assert store.changed_since(token).upserted == ()
    edited = store.update(first.id, replace(NOISE, performance="李某某已按期履行。"), revision=1)
    assert edited.id == first.id and edited.revision == 2 and edited.created == first.created
    with pytest.raises(PrecedentError, match="已被他人修改"):
        store.update(first.id, NOISE, revision=1)
    second = store.add(replace(NOISE, number="2024-050"))
    changes = store.changed_since(token)
    assert [c.id for c in changes.upserted] == [first.id, second.id]
    assert changes.upserted[0].section("履行情况") == "李某某已按期履行。"
    store.delete(second.number)
    later = store.changed_since(changes.token)
    assert later.deleted == ("precedent-2024-050",) and later.upserted == ()
    assert later.token > changes.token
    # Seen from the start, a record added then deleted is only a deletion.
    assert "precedent-2024-050" not in [c.id for c in store.changed_since(0).upserted]
    with pytest.raises(PrecedentError, match="没有编号"):
        store.delete("2024-050")
    assert [p.number for p in store.records()] == ["2024-001"]


def comparable(p: Precedent) -> Precedent:
    return replace(p, created="", updated="", revision=1)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_export_and_reimport_round_trip(store: PrecedentStore, tmp_path: Path, suffix: str) -> None:
    store.add(NOISE)
    store.add(
        PrecedentDraft(
            facts="王五向赵六借款2万元，到期未还。",
            result="王五于2024年6月30日前分两次归还借款。",
            parties=("王五", "赵六"),
            articles=("民法典第1079条",),
            date="2024-04-02",
        )
    )
    out = tmp_path / f"导出{suffix}"
    assert store.export(out) == 2
    # The export is a committee file the ordinary case import reads too.
    cases = load_cases([out], report=(report := IngestReport()))
    assert report.problems == [] and len(cases) == 2
    again = PrecedentStore(tmp_path / "other" / FILENAME, index())
    result = again.import_file(out)
    assert result.problems == [] and sorted(result.added) == [
        "precedent-2024-001",
        "precedent-2024-002",
    ]
    assert [comparable(p) for p in again.records()] == [comparable(p) for p in store.records()]
    # Importing the same file again updates in place.
    assert sorted(again.import_file(out).updated) == ["precedent-2024-001", "precedent-2024-002"]
    assert len(again.records()) == 2


def test_import_reports_bad_records_and_keeps_the_rest(
    store: PrecedentStore, tmp_path: Path
) -> None:
    src = tmp_path / "记录.csv"
    src.write_text(
        "编号,基本案情,调解结果,法律依据\n"
        "1,邻居漏水,赔偿五百元,民法典第二百八十八条\n"
        "2,邻居噪音,达成和解,民法典第9999条\n"
        "3,,缺案情,\n",
        "utf-8",
    )
    result = store.import_file(src)
    assert result.added == ["precedent-1"]
    wheres = [p.where for p in result.problems]
    assert any(w.endswith(":3") for w in wheres) and any(w.endswith(":4") for w in wheres)
    assert any("9999" in p.reason for p in result.problems)
    with pytest.raises(PrecedentError, match="不支持"):
        store.import_file(tmp_path / "x.txt")


def test_a_failure_inside_a_save_leaves_nothing_behind(
    store: PrecedentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add(NOISE)

    def boom(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(PrecedentStore, "_log_change", boom)
    with pytest.raises(OSError):
        store.add(replace(NOISE, number="2024-099"))
    with pytest.raises(OSError):
        store.update("2024-001", replace(NOISE, performance="改"))
    monkeypatch.undo()
    assert [p.number for p in store.records()] == ["2024-001"]
    assert store.get("2024-001").performance == "已履行。"  # type: ignore[union-attr]


CHILD = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {repo!r})
    sys.path.insert(0, {tests!r})
    from test_precedents import NOISE, index
    from retrieval.precedents import PrecedentStore
    from dataclasses import replace
    store = PrecedentStore({path!r}, index())
    if sys.argv[1] == "die-mid-save":
        # The record row is written; the process dies before the change log and the commit.
        PrecedentStore._log_change = lambda *a: os._exit(9)
        store.add(replace(NOISE, number="half"))
    else:
        n = 0
        while True:
            n += 1
            store.add(replace(NOISE, number=f"k-{{n}}"))
            print(n, flush=True)
    """
)


def run_child(tmp_path: Path, mode: str) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(
        CHILD.format(
            repo=str(REPO), tests=str(REPO / "tests"), path=str(tmp_path / "kb" / FILENAME)
        ),
        "utf-8",
    )
    return subprocess.Popen(
        [sys.executable, str(script), mode], stdout=subprocess.PIPE, text=True, cwd=REPO
    )


def consistent(store: PrecedentStore) -> list[str]:
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        logged = {n for (n,) in db.execute("SELECT number FROM changes WHERE op = 'put'")}
    numbers = [p.number for p in store.records()]
    assert set(numbers) <= logged  # every row stored came with its change-log entry
    return numbers


def test_a_process_dying_mid_save_loses_nothing_saved(
    store: PrecedentStore, tmp_path: Path
) -> None:
    store.add(NOISE)
    child = run_child(tmp_path, "die-mid-save")
    assert child.wait(timeout=120) == 9
    assert consistent(store) == ["2024-001"]
    assert store.get("half") is None
    assert store.add(replace(NOISE, number="after")).revision == 1


def test_killing_a_writer_at_any_moment_keeps_the_store_whole(
    store: PrecedentStore, tmp_path: Path
) -> None:
    store.add(NOISE)
    child = run_child(tmp_path, "loop")
    assert child.stdout is not None
    deadline = time.monotonic() + 60
    done = 0
    while done < 5 and time.monotonic() < deadline:
        line = child.stdout.readline()
        done = int(line) if line.strip() else done
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    numbers = consistent(store)
    # Every save the child reported is there, whole; at most the one in flight is missing.
    assert {f"k-{i}" for i in range(1, done + 1)} <= set(numbers)
    assert all(store.get(n) is not None and store.get(n).facts for n in numbers)  # type: ignore[union-attr]
