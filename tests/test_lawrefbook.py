"""LawRefBook Markdown parser: fixtures in tests/data/statutes and the real curated corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.lawrefbook import parse_markdown, parse_markdown_bytes
from ingest.statutes import load_statutes

DATA = Path(__file__).parent / "data" / "statutes"
CORPUS = Path(
    os.environ.get(
        "FENGQIAO_CORPUS", Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    )
)
CURATED = CORPUS / "statutes"
needs_corpus = pytest.mark.skipif(
    not CURATED.is_dir(), reason=f"真实语料不存在：{CURATED}（设置 FENGQIAO_CORPUS）"
)


def parse(rel: str):
    path = DATA / rel
    return parse_markdown_bytes(path.read_bytes(), str(path))


def test_article_body_paragraphs_path_and_line():
    doc = parse("民法典/婚姻家庭编.md")
    assert doc.title == "中华人民共和国民法典"
    assert doc.part == "婚姻家庭编"
    a = {x.number: x for x in doc.articles}[1079]
    assert a.label == "第一千零七十九条"
    assert a.path == ("第五编 婚姻家庭", "第四章 离婚")  # double space in the heading collapsed
    assert a.text.startswith("夫妻一方要求离婚的，可以由有关组织进行调解")
    paras = a.text.split("\n")
    assert len(paras) == 10
    assert paras[3] == "（一）重婚或者与他人同居；"
    assert paras[-1].startswith("经人民法院判决不准离婚后")
    lines = (DATA / "民法典/婚姻家庭编.md").read_text("utf-8").split("\n")
    assert lines[a.line - 1].startswith("第一千零七十九条 夫妻一方")


def test_history_lines_are_not_articles():
    doc = parse("司法解释/最高人民法院关于适用《民法典》婚姻家庭编的解释（一）(2020-12-29).md")
    assert [a.number for a in doc.articles] == [1, 2]
    assert doc.info == (
        "2020年12月25日 最高人民法院审判委员会第1825次会议通过",
        "2021年1月1日 施行",
    )
    # the preamble before the first article belongs to no article
    assert not any("为正确审理" in a.text for a in doc.articles)
    assert doc.articles[0].path == ("一、一般规定",)


def test_suffix_fullwidth_space_force_break_and_empty_heading():
    doc = parse("刑法/刑法.md")
    keys = [(a.number, a.suffix) for a in doc.articles]
    assert keys == [(133, ""), (133, "之一"), (133, "之二"), (134, ""), (452, "")]
    by = {(a.number, a.suffix): a for a in doc.articles}
    assert by[(133, "之一")].label == "第一百三十三条之一"
    assert by[(133, "之二")].text.startswith("对行驶中的公共交通工具")  # full-width space stripped
    assert "FORCE BREAK" not in by[(134, "")].text
    assert by[(134, "")].text.count("\n") == 1
    assert by[(133, "")].path == ("第二编 分则", "第二章 危害公共安全罪")
    assert by[(452, "")].path == ()  # an empty `##` closes the 编


def test_label_inside_paragraph_is_not_an_article():
    text = "# 某条例\n\n<!-- INFO END -->\n\n第一条 甲。\n\n第五条规定的情形除外。\n\n第二条 乙。\n"
    doc = parse_markdown(text, "x.md")
    assert [(a.number, a.text) for a in doc.articles] == [
        (1, "甲。\n第五条规定的情形除外。"),
        (2, "乙。"),
    ]


def test_navigation_page_and_template_are_skipped():
    nav = parse_markdown("---\nbookCollapseSection: true\n---\n", "_index.md")
    assert nav.skipped and not nav.articles
    tpl = parse_markdown(
        "---\nbookHidden: true\n---\n\n# 标题\n\n<!-- INFO END -->\n\n第一条 xxxxx\n", "模版.md"
    )
    assert tpl.skipped


def test_plain_markdown_without_info_end():
    doc = parse_markdown("# 某村村规民约\n\n第一条 本村村民应当遵守本规约。\n", "村规民约.md")
    assert doc.title == "某村村规民约"
    assert [a.text for a in doc.articles] == ["本村村民应当遵守本规约。"]
    assert not doc.problems
    bare = parse_markdown(
        "第一条本村村民应当遵守本规约。\n第二条 第一条规定的村民包括…\n", "无标题.md"
    )
    assert [(a.number, a.text) for a in bare.articles] == [
        (1, "本村村民应当遵守本规约。"),
        (2, "第一条规定的村民包括…"),
    ]
    assert [p.kind for p in bare.problems] == ["layout"]


@pytest.mark.slow
@needs_corpus
def test_real_curated_corpus_counts_and_known_articles():
    load = load_statutes([CURATED])
    assert load.report.documents == 66
    assert load.report.articles == 5533
    assert not load.report.problems, [str(p) for p in load.report.problems]
    by_id = {a.id: a for a in load.articles}
    a = by_id["民法典:1079"]
    assert a.text.startswith("夫妻一方要求离婚的")
    assert a.citation == "《中华人民共和国民法典》第一千零七十九条"
    assert a.path == ("第五编 婚姻家庭", "第四章 离婚")
    civil = sorted(x.number for x in load.articles if x.law == "民法典")
    assert civil == list(range(1, 1261))
    assert {x.path[0] for x in load.articles if x.law == "民法典"} == {
        "第一编 总则",
        "第二编 物权",
        "第三编 合同",
        "第四编 人格权",
        "第五编 婚姻家庭",
        "第六编 继承",
        "第七编 侵权责任",
        "附则",
    }
    assert sum(1 for x in load.articles if x.law == "人民调解法") == 35
    assert "最高人民法院关于适用民法典婚姻家庭编的解释（一）:1" in by_id
    assert all(x.status == "现行有效" and x.current for x in load.articles)
