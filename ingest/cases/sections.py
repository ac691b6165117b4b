"""Case headings as written (案情回顾, 法官解读 …) mapped to canonical sections; the parsed-case shape."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Canonical section names, in the order a case usually reads.
SECTION_NAMES: tuple[str, ...] = (
    "关键词",
    "要点",
    "裁判要旨",
    "基本案情",
    "诉讼请求",
    "争议焦点",
    "调解过程",
    "裁判理由",
    "适用解析",
    "调解结果",
    "裁判结果",
    "协议内容",
    "履行情况",
    "典型意义",
    "相关法条",
    "法律依据",
    "问题",
    "回答",
    "正文",
)

# Heading as written → canonical name. Keys are compared after removing
# numbering (一、 / 1. / （一）), spaces and a trailing colon. The 52 LawRefBook
# typical cases use: 基本案情 案情回顾 简要案情 | 关键词 | 裁判要点 裁判要旨 |
# 原告诉讼请求 申请人请求 | 裁判结果 处理结果 法院裁判 | 裁判理由 【判决理由】 |
# 适用解析 法官解读 案例分析 | 典型意义 | 司法解释相关法条 司法解释相关条文,
# besides a heading holding the case name.
HEADINGS: dict[str, str] = {
    "关键词": "关键词",
    "关键字": "关键词",
    "裁判要点": "裁判要旨",
    "裁判要旨": "裁判要旨",
    "案例要旨": "裁判要旨",
    "要旨": "裁判要旨",
    "要点": "要点",
    "基本案情": "基本案情",
    "案情回顾": "基本案情",
    "简要案情": "基本案情",
    "案情简介": "基本案情",
    "案情": "基本案情",
    "案件事实": "基本案情",
    "纠纷简介": "基本案情",
    "纠纷事实": "基本案情",
    "事实经过": "基本案情",
    "原告诉讼请求": "诉讼请求",
    "诉讼请求": "诉讼请求",
    "申请人请求": "诉讼请求",
    "当事人请求": "诉讼请求",
    "当事人诉求": "诉讼请求",
    "争议焦点": "争议焦点",
    "纠纷焦点": "争议焦点",
    "调解过程": "调解过程",
    "调解经过": "调解过程",
    "调处过程": "调解过程",
    "裁判理由": "裁判理由",
    "判决理由": "裁判理由",
    "法院认为": "裁判理由",
    "仲裁委认为": "裁判理由",
    "适用解析": "适用解析",
    "法官解读": "适用解析",
    "法官说法": "适用解析",
    "法官点评": "适用解析",
    "案例分析": "适用解析",
    "案例解析": "适用解析",
    "调解结果": "调解结果",
    "调处结果": "调解结果",
    "处理结果": "裁判结果",
    "仲裁结果": "裁判结果",
    "裁决结果": "裁判结果",
    "裁判结果": "裁判结果",
    "判决结果": "裁判结果",
    "法院裁判": "裁判结果",
    "裁判情况": "裁判结果",
    "协议内容": "协议内容",
    "调解协议": "协议内容",
    "协议主要内容": "协议内容",
    "履行情况": "履行情况",
    "协议履行情况": "履行情况",
    "回访情况": "履行情况",
    "典型意义": "典型意义",
    "案例评析": "典型意义",
    "调解员点评": "典型意义",
    "经验启示": "典型意义",
    "司法解释相关法条": "相关法条",
    "司法解释相关条文": "相关法条",
    "相关法条": "相关法条",
    "相关法律规定": "相关法条",
    "法律依据": "法律依据",
    "法律法规依据": "法律依据",
    "问题": "问题",
    "咨询问题": "问题",
    "回答": "回答",
    "解答": "回答",
}

_NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|（[一二三四五六七八九十]+）|\d+[、.．)]|【|\[)"
)
_TRAILER = re.compile(r"(?:】|\]|[：:]|\s)+$")


def canonical_section(heading: str) -> str | None:
    """The canonical name of a heading (``"一、案情回顾："`` → ``"基本案情"``), or None."""
    h = _NUMBERING.sub("", heading.strip().replace("\u3000", " ")).strip()
    h = _TRAILER.sub("", h)
    h = re.sub(r"\s+", "", h)
    return HEADINGS.get(h)


def merge_sections(pairs: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Drop empty bodies and join repeated names, keeping first-seen order."""
    order: list[str] = []
    bodies: dict[str, list[str]] = {}
    for name, body in pairs:
        body = body.strip()
        if not body:
            continue
        if name not in bodies:
            order.append(name)
            bodies[name] = []
        bodies[name].append(body)
    return tuple((n, "\n".join(bodies[n])) for n in order)


@dataclass
class ParsedCase:
    """A case as a source parser read it, before anonymisation, citations and classification."""

    id: str
    kind: str
    title: str
    sections: tuple[tuple[str, str], ...]
    source: str
    file: str
    line: int = 0
    dispute_type: str = ""  # from metadata; "" → the classifier decides
    date: str = ""
    region: str = ""
    parties: tuple[str, ...] = ()
    sample: bool = False
    cite_text: str = ""  # unused since issue 11: citations are taken from every section
    cite_list: tuple[str, ...] = ()  # citation strings given as a list (lawyer-llama ``laws``)
    cite_law: str = ""  # law a bare 第X条 refers to when the text names none
    provenance: str = ""  # who wrote it, source, licence ("" → the source)
