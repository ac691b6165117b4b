"""load_statutes: metadata, versions and status, ids, levels, incremental cache and Changes."""

from __future__ import annotations

import datetime
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from ingest.metadata import MetadataIndex, split_stem
from ingest.statutes import load_statutes

DATA = Path(__file__).parent / "data" / "statutes"
CORPUS = Path(
    os.environ.get(
        "FENGQIAO_CORPUS", Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    )
)
FULL = CORPUS / "statutes_full"
TODAY = datetime.date(2026, 1, 1)


def make_db(path: Path, rows: list[tuple[str, str, str, str, str, int, str]]) -> None:
    """A LawRefBook-shaped db.sqlite3: (name, level, filename, publish, valid_from, expired, folder)."""
    con = sqlite3.connect(path)
    con.execute(
        "create table category (id text, name text, folder text, isSubFolder integer, `group` text, `order` integer)"
    )
    con.execute(
        "create table law (id text, level text, name text, filename text, publish date, expired integer, "
        "`order` integer, subtitle text, valid_from date, ver integer, tags text, category_id text)"
    )
    folders = sorted({r[6] for r in rows})
    for i, folder in enumerate(folders):
        con.execute(
            "insert into category values (?, ?, ?, 0, '', ?)",
            (f"c{i}", folder.split("/")[-1], folder, i),
        )
    for i, (name, level, filename, publish, valid_from, expired, folder) in enumerate(rows):
        cid = f"c{folders.index(folder)}"
        con.execute(
            "insert into law values (?, ?, ?, ?, ?, ?, 0, '', ?, 1, '', ?)",
            (f"l{i}", level, name, filename, publish or None, expired, valid_from or None, cid),
        )
    con.commit()
    con.close()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "statutes"
    shutil.copytree(DATA, root)
    make_db(
        root / "db.sqlite3",
        [
            ("民法典 婚姻家庭编", "法律", "婚姻家庭编", "", "", 0, "民法典"),
            ("人民调解法", "法律", "", "2010-08-28", "2011-01-01", 0, "诉讼与非诉讼程序法"),
            ("公司法", "法律", "", "2018-10-26", "2018-10-26", 1, "民法商法"),
            ("公司法", "法律", "", "2023-12-29", "2024-07-01", 0, "民法商法"),
            (
                "最高人民法院关于适用《民法典》婚姻家庭编的解释（一）",
                "司法解释",
                "",
                "2020-12-29",
                "2021-01-01",
                0,
                "司法解释",
            ),
        ],
    )
    return root


def test_split_stem():
    assert split_stem("人民调解法(2010-08-28)") == ("人民调解法", "2010-08-28")
    assert split_stem("婚姻家庭编") == ("婚姻家庭编", "")


def test_metadata_matched_by_name_folder_and_date(tree):
    index = MetadataIndex()
    meta = index.match(tree / "民法商法" / "公司法(2018-10-26).md")
    assert meta and meta.expired and meta.publish == "2018-10-26"
    meta = index.match(tree / "民法商法" / "公司法(2023-12-29).md")
    assert meta and not meta.expired and meta.valid_from == "2024-07-01"
    meta = index.match(tree / "民法典" / "婚姻家庭编.md")
    assert meta and meta.level == "法律" and meta.category == "民法典"
    assert index.find_db(tree / "刑法" / "刑法.md") == tree / "db.sqlite3"


def test_versions_status_ids_and_levels(tree):
    load = load_statutes([tree], today=TODAY)
    docs = {(d.law, d.version): d for d in load.documents}
    old, new = docs[("公司法", "2018-10-26")], docs[("公司法", "2023-12-29")]
    assert (old.status, old.current, old.id_prefix) == ("已修改", False, "公司法@2018-10-26")
    assert (new.status, new.current, new.id_prefix) == ("现行有效", True, "公司法")
    by_id = {a.id: a for a in load.articles}
    assert by_id["公司法:1"].text.startswith("为了规范公司的组织和行为，保护公司、股东、职工")
    assert by_id["公司法@2018-10-26:1"].version == "2018-10-26"
    assert not by_id["公司法@2018-10-26:1"].current
    assert by_id["公司法:1"].valid_from == "2024-07-01"
    # levels: db row, else folder name
    assert by_id["人民调解法:1"].level == "法律"
    assert by_id["人民调解法:1"].valid_from == "2011-01-01"
    assert by_id["最高人民法院关于适用民法典婚姻家庭编的解释（一）:1"].level == "司法解释"
    assert by_id["刑法:133之一"].level == "法律"  # no db row: folder 刑法
    assert by_id["刑法:133之一"].label == "第一百三十三条之一"
    # the three 民法典 files are one law
    civil = [d for d in load.documents if d.law == "民法典"]
    assert len(civil) == 1 and len(civil[0].sources) == 3
    assert by_id["民法典:1260"].path == ("附则",)
    assert by_id["民法典:1079"].law_title == "中华人民共和国民法典"


def test_not_yet_in_force(tree):
    early = load_statutes([tree], today=datetime.date(2024, 1, 1))
    docs = {(d.law, d.version): d for d in early.documents}
    # the 2023 text takes effect on 2024-07-01: the 2018 one stays current until then
    assert docs[("公司法", "2023-12-29")].status == "尚未施行"
    assert not docs[("公司法", "2023-12-29")].current
    assert docs[("公司法", "2023-12-29")].id_prefix == "公司法@2023-12-29"
    # expired=1 in the db snapshot, but that only records it was superseded later
    assert docs[("公司法", "2018-10-26")].status == "现行有效"
    assert docs[("公司法", "2018-10-26")].current
    assert {a.id for a in early.articles if a.law == "公司法"} == {
        "公司法:1",
        "公司法:2",
        "公司法@2023-12-29:1",
        "公司法@2023-12-29:2",
    }


def test_repealed_law_by_name_and_by_text(tmp_path):
    d = tmp_path / "laws"
    d.mkdir()
    (d / "婚姻法(2001-04-28).md").write_text(
        "# 中华人民共和国婚姻法\n\n<!-- INFO END -->\n\n第三十二条 男女一方要求离婚的，可由有关部门进行调解或直接向人民法院提出离婚诉讼。\n",
        "utf-8",
    )
    (d / "某市养犬管理规定(2000-01-01).md").write_text(
        "# 某市养犬管理规定（已废止）\n\n<!-- INFO END -->\n\n第一条 为了加强养犬管理，制定本规定。\n",
        "utf-8",
    )
    load = load_statutes([d], today=TODAY)
    by_law = {a.law: a for a in load.articles}
    marriage = by_law["婚姻法"]
    assert (marriage.id, marriage.status, marriage.current) == ("婚姻法:32", "已废止", False)
    dog = next(a for a in load.articles if a.law.startswith("某市养犬管理规定"))
    assert dog.status == "已废止" and not dog.current
    assert marriage.level == "用户文件"


def test_overlapping_folders_read_each_file_once(tree):
    one = load_statutes([tree], today=TODAY)
    both = load_statutes([tree, tree / "民法典", tree / "刑法" / "刑法.md"], today=TODAY)
    assert [a.id for a in both.articles] == [a.id for a in one.articles]
    assert not [p for p in both.report.problems if p.kind == "duplicate-file"]


def test_dlc_folder_is_local_regulation(tmp_path):
    f = (
        tmp_path
        / "DLC"
        / "浙江地方法规"
        / "地方性法规"
        / "浙江"
        / "宁波市人民调解条例(2015-04-13).md"
    )
    f.parent.mkdir(parents=True)
    f.write_text(
        "# 宁波市人民调解条例\n\n<!-- INFO END -->\n\n第一条 为了规范人民调解工作，制定本条例。\n",
        "utf-8",
    )
    load = load_statutes([tmp_path / "DLC"])
    assert load.articles[0].level == "地方性法规"
    assert load.articles[0].category == "浙江"


def test_incremental_cache_and_changes(tree, tmp_path):
    cache = tmp_path / "cache"
    first = load_statutes([tree], cache_dir=cache, today=TODAY)
    assert first.changes.first_run and first.changes.reparsed == 8
    assert len(first.changes.added_articles) == len(first.articles)

    again = load_statutes([tree], cache_dir=cache, today=TODAY)
    assert again.changes.reparsed == 0 and again.changes.reused == 8
    c = again.changes
    assert not (c.added_documents or c.changed_documents or c.removed_documents)
    assert not (c.added_articles or c.changed_articles or c.removed_articles or c.first_run)
    assert [a.to_dict() for a in again.articles] == [a.to_dict() for a in first.articles]

    law = tree / "诉讼与非诉讼程序法" / "人民调解法(2010-08-28).md"
    law.write_text(law.read_text("utf-8").replace("不收取任何费用", "不收取费用"), "utf-8")
    (tree / "民法商法" / "公司法(2018-10-26).md").unlink()
    (tree / "新规定.md").write_text("# 某规定\n\n<!-- INFO END -->\n\n第一条 甲。\n", "utf-8")
    third = load_statutes([tree], cache_dir=cache, today=TODAY)
    ch = third.changes
    assert ch.reparsed == 2
    assert ch.changed_documents == (str(law),)
    assert ch.removed_documents == (str(tree / "民法商法" / "公司法(2018-10-26).md"),)
    assert ch.added_documents == (str(tree / "新规定.md"),)
    assert ch.changed_articles == ("人民调解法:4",)
    assert set(ch.removed_articles) == {"公司法@2018-10-26:1", "公司法@2018-10-26:2"}
    assert ch.added_articles == ("某规定:1",)
    # atomic writes leave no temp files, and stale parse results are pruned
    files = list((cache / "statutes").rglob("*"))
    assert not [p for p in files if p.name.startswith(".tmp-")]
    import pickle

    _, entries = pickle.loads((cache / "statutes" / "parsed.pickle").read_bytes())
    assert len(entries) == 8


@pytest.mark.slow
@pytest.mark.skipif(not FULL.is_dir(), reason=f"真实语料不存在：{FULL}（设置 FENGQIAO_CORPUS）")
def test_full_collection_versions(tmp_path):
    load = load_statutes([FULL / "民法商法", FULL / "司法解释"], today=TODAY)
    docs = {(d.law, d.version): d for d in load.documents}
    assert docs[("公司法", "2023-12-29")].current
    assert docs[("公司法", "2018-10-26")].status == "已修改"
    ids = {a.id for a in load.articles}
    assert "公司法:1" in ids and "公司法@2018-10-26:1" in ids
    assert all(a.status in ("现行有效", "已修改", "已废止", "尚未施行") for a in load.articles)
    assert sum(d.current for d in load.documents if d.law == "公司法") == 1


EVAL = CORPUS.parent / "eval"


@pytest.mark.slow
@pytest.mark.skipif(
    not FULL.is_dir() or not EVAL.is_dir(), reason=f"真实语料或评测集不存在：{CORPUS}"
)
def test_every_national_gold_article_is_ingested_under_its_eval_name():
    """The eval sets name laws the README way; every gold article of the national tier must exist."""
    import json

    load = load_statutes([FULL])
    heads = {(a.law, a.key) for a in load.articles if "@" not in a.id and "/DLC/" not in a.source}
    missing, total = [], 0
    for f in sorted(EVAL.glob("*.jsonl")):
        for line in f.read_text("utf-8").splitlines():
            q = json.loads(line)
            if "national" in q["tiers"]:
                for g in q["gold"]:
                    total += 1
                    if (g["law"], g["article"]) not in heads:
                        missing.append((q["id"], g["law"], g["article"]))
    assert total > 3500
    assert not missing, missing[:10]
    national = [d for d in load.documents if "/DLC/" not in d.sources[0]]
    assert 1400 <= len(national) <= 1500
    assert {d.level for d in load.documents} >= {
        "法律",
        "行政法规",
        "司法解释",
        "地方性法规",
        "部门规章",
    }
