"""A small knowledge base in memory for page, export and answer tests: a real Service
(``Service.from_records``) over a few fixture records, with the test embedder."""

from __future__ import annotations

from collections.abc import Sequence

from ingest.names import article_label
from ingest.records import Article, Case, Citation, article_id
from retrieval.service import Service

TITLE = "中华人民共和国民法典"
PATH_DIVORCE = ("第五编 婚姻家庭", "第四章 离婚")
PATH_NEIGHBOUR = ("第二编 物权", "第七章 相邻关系")


def _art(law: str, title: str, number: int, text: str, path: tuple[str, ...], **kw) -> Article:
    old = not kw.get("current", True)
    return Article(
        id=article_id(law, number, version=str(kw.get("version", "")) if old else ""),
        law=law,
        law_title=title,
        number=number,
        suffix="",
        label=article_label(number),
        text=text,
        path=path,
        level=kw.pop("level", "法律"),
        valid_from=kw.pop("valid_from", "2021-01-01"),
        publish=kw.pop("publish", "2020-05-28"),
        **kw,
    )


ARTICLES = [
    _art(
        "民法典",
        TITLE,
        1076,
        "夫妻双方自愿离婚的，应当签订书面离婚协议，并亲自到婚姻登记机关申请离婚登记。\n离婚协议应当载明双方自愿离婚的意思表示和对子女抚养、财产以及债务处理等事项协商一致的意见。",
        PATH_DIVORCE,
    ),
    _art(
        "民法典",
        TITLE,
        1078,
        "婚姻登记机关查明双方确实是自愿离婚，并已经对子女抚养、财产以及债务处理等事项协商一致的，予以登记，发给离婚证。",
        PATH_DIVORCE,
    ),
    _art(
        "民法典",
        TITLE,
        1079,
        "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。\n人民法院审理离婚案件，应当进行调解；如果感情确已破裂，调解无效的，应当准予离婚。\n有下列情形之一，调解无效的，应当准予离婚：\n（四）因感情不和分居满二年；",
        PATH_DIVORCE,
    ),
    _art(
        "民法典",
        TITLE,
        1080,
        "完成离婚登记，或者离婚判决书、调解书生效，即解除婚姻关系。",
        PATH_DIVORCE,
    ),
    _art(
        "民法典",
        TITLE,
        294,
        "不动产权利人不得违反国家规定弃置固体废物，排放大气污染物、水污染物、土壤污染物、噪声、光辐射、电磁辐射等有害物质。",
        PATH_NEIGHBOUR,
    ),
    _art(
        "民法典",
        TITLE,
        288,
        "不动产的相邻权利人应当按照有利生产、方便生活、团结互助、公平合理的原则，正确处理相邻关系。",
        PATH_NEIGHBOUR,
    ),
    _art(
        "人民调解法",
        "中华人民共和国人民调解法",
        4,
        "人民调解委员会调解民间纠纷，不收取任何费用。",
        ("第一章 总则",),
        valid_from="2011-01-01",
        publish="2010-08-28",
    ),
    _art(
        "婚姻法",
        "中华人民共和国婚姻法",
        32,
        "男女一方要求离婚的，可由有关部门进行调解或直接向人民法院提出离婚诉讼。",
        ("第四章 离婚",),
        status="已废止",
        valid_from="1981-01-01",
        publish="1980-09-10",
        version="2001-04-28",
        current=False,
    ),
]

CASES = [
    Case(
        id="case-divorce",
        kind="典型案例",
        title="王某诉李某离婚纠纷案",
        dispute_type="婚姻家庭",
        sections=(
            ("基本案情", "王某与李某分居满二年，王某要求离婚，李某不同意离婚。"),
            ("争议焦点", "分居满二年一方不同意离婚的，能否准予离婚。"),
            ("裁判结果", "法院判决准予离婚。婚生子由王某抚养。"),
        ),
        cited=(
            Citation("《民法典》第一千零七十九条", "民法典", "1079", resolved_id="民法典:1079"),
        ),
        date="2021-05-01",
        region="浙江",
    ),
    Case(
        id="case-noise",
        kind="调解案例",
        title="张某与邻居赵某噪声纠纷案",
        dispute_type="邻里关系",
        sections=(
            ("基本案情", "赵某装修房屋，晚上施工，噪声很大。"),
            ("调解结果", "赵某同意晚上八点后停止施工，并向张某赔礼道歉。"),
        ),
        cited=(Citation("《民法典》第二百九十四条", "民法典", "294", resolved_id="民法典:294"),),
        date="2022",
        region="上海",
    ),
]


def small_service(articles: Sequence[Article] = (), cases: Sequence[Case] = ()) -> Service:
    """A real ``Service`` over ARTICLES and CASES, plus ``articles`` and ``cases`` (the same
    id replaces the fixture's record), with the test embedder: no index folder, no model."""
    from ui_kb import fake_config, fake_embedder

    arts = {a.id: a for a in [*ARTICLES, *articles]}
    found = {c.id: c for c in [*CASES, *cases]}
    return Service.from_records(
        list(arts.values()),
        list(found.values()),
        fake_embedder(),  # type: ignore[arg-type]
        config=fake_config(),
    )
