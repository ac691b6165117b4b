"""调解协议书 and 调解笔录 drafts from a 案卷: only what the mediator entered, law quoted verbatim."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from ingest.records import Article
from ui.documents.document import Block, paragraphs
from ui.documents.guidance_blocks import guidance_blocks
from ui.documents.quoting import Entry, RecordSource, cite, quote_blocks, resolve
from ui.store import CaseDetails, Item, Party

DraftKind = Literal["agreement", "record"]
TITLES: dict[str, str] = {"agreement": "人民调解协议书", "record": "调解笔录"}

NOTICE_HEAD = "草稿说明（打印前请删除本段）："
"""Opens the note about the draft itself: in the DOCX (editable) and on screen, never in a PDF."""
BLANK = "＿＿＿＿＿＿"
BLANK_DATE = "＿＿＿＿年＿＿月＿＿日"


@dataclass(frozen=True)
class Statute:
    """An article a draft quotes by id; ``expect`` must occur in its text, or it is not quoted.

    The check guards against a knowledge base whose numbering differs (an older 民事诉讼法
    has another article at 第二百零五条): a wrong article is worse than none.
    """

    id: str
    citation: str  # shown when the KB lacks the article, so the reader knows what to look up
    expect: str


# 司法确认: 人民调解法第三十三条, the 民事诉讼法 特别程序 第七节 确认调解协议案件 (2023 text), and
# the articles of the 民事诉讼法解释 (2022) on how to apply and when a court refuses.
JUDICIAL_CONFIRMATION: tuple[Statute, ...] = (
    Statute("人民调解法:33", "《中华人民共和国人民调解法》第三十三条", "司法确认"),
    Statute("民事诉讼法:205", "《中华人民共和国民事诉讼法》第二百零五条", "申请司法确认"),
    Statute("民事诉讼法:206", "《中华人民共和国民事诉讼法》第二百零六条", "调解协议"),
    Statute(
        "最高人民法院关于适用民事诉讼法的解释:351",
        "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第三百五十一条",
        "司法确认",
    ),
    Statute(
        "最高人民法院关于适用民事诉讼法的解释:353",
        "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第三百五十三条",
        "司法确认",
    ),
    Statute(
        "最高人民法院关于适用民事诉讼法的解释:354",
        "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第三百五十四条",
        "司法确认",
    ),
    Statute(
        "最高人民法院关于适用民事诉讼法的解释:355",
        "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第三百五十五条",
        "不予受理",
    ),
    Statute(
        "最高人民法院关于适用民事诉讼法的解释:358",
        "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第三百五十八条",
        "驳回申请",
    ),
)
# Read to the parties at the start of a session (the 告知 a 笔录 records).
RIGHTS_AND_DUTIES: tuple[Statute, ...] = (
    Statute("人民调解法:23", "《中华人民共和国人民调解法》第二十三条", "权利"),
    Statute("人民调解法:24", "《中华人民共和国人民调解法》第二十四条", "义务"),
)
# The 29th article's own words on when the agreement takes effect and who keeps a copy.
EFFECT = (
    "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效。"
)

_ORGANISATION = re.compile(
    r"公司|委员会|单位|厂|店|中心|协会|学校|医院|银行|社区|合作社|事务所|集团"
)
_ID18 = re.compile(r"^\d{17}[\dXx]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class Quoted:
    """The outcome of looking a statute up: the article, or why it is not quoted."""

    statute: Statute
    article: Article | None
    problem: str = ""


def lookup(statutes: Sequence[Statute], kb: RecordSource) -> list[Quoted]:
    out = []
    for s in statutes:
        art = kb.article(s.id)
        if art is None:
            out.append(Quoted(s, None, f"知识库中未收录{s.citation}"))
        elif s.expect not in art.text:
            out.append(
                Quoted(s, None, f"知识库中{s.citation}的内容与本用途不符（可能是其他版本的编号）")
            )
        else:
            out.append(Quoted(s, art))
    return out


def id_checksum_ok(number: str) -> bool:
    """GB 11643 check digit of an 18-digit 居民身份证号码."""
    if not _ID18.match(number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def mask_id(number: str) -> str:
    """An ID number with its middle hidden: 110105********0021 (a short one: all but 2)."""
    number = number.strip()
    if len(number) > 10:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return "*" * max(0, len(number) - 2) + number[-2:] if len(number) > 2 else "*" * len(number)


def mask_phone(phone: str) -> str:
    """A phone number with its middle digits hidden: 138****5678, 0575-8****321."""
    phone = phone.strip()
    if len(phone) == 11 and phone.isdigit():
        return phone[:3] + "****" + phone[7:]
    digits = [i for i, ch in enumerate(phone) if ch.isdigit()]
    hide = set(digits[3:-3]) if len(digits) >= 7 else set(digits[:-2])
    return "".join("*" if i in hide else ch for i, ch in enumerate(phone))


def is_organisation(party: Party) -> bool:
    return not party.gender and bool(_ORGANISATION.search(party.name))


def party_line(party: Party, *, mask: bool = False) -> str:
    """One party's basic information as entered; the usual items not entered are left blank."""
    role = party.role or "当事人"
    id_number = mask_id(party.id_number) if mask else party.id_number
    phone = mask_phone(party.phone) if mask else party.phone
    if is_organisation(party):
        parts = [
            ("住所", party.address),
            ("法定代表人或负责人", party.agent),
            ("统一社会信用代码", id_number),
            ("联系电话", phone),
        ]
        optional: list[tuple[str, str]] = []
    else:
        parts = [
            ("性别", party.gender),
            ("民族", party.ethnicity),
            ("出生日期（年龄）", party.birth),
            ("身份证号码", id_number),
            ("住址", party.address),
            ("联系电话", phone),
        ]
        optional = [("职业或工作单位", party.occupation), ("委托代理人", party.agent)]
    shown = [f"{label}：{value.strip() or BLANK}" for label, value in parts]
    shown += [f"{label}：{value.strip()}" for label, value in optional if value.strip()]
    return f"{role}：{party.name.strip() or BLANK}，" + "，".join(shown) + "。"


def _text_or_blank(value: str, lines: int, kind: Literal["text", "quote"] = "text") -> list[Block]:
    paras = paragraphs(value)
    return [Block(kind, p) for p in paras] if paras else [Block("blank", lines=lines)]


def _committee(details: CaseDetails) -> str:
    name = details.committee.strip()
    if not name:
        return f"{BLANK}人民调解委员会"
    return name if name.endswith("委员会") else f"{name}人民调解委员会"


def _missing(details: CaseDetails, kind: DraftKind) -> list[str]:
    wanted = {
        "agreement": [
            ("编号", details.number),
            ("人民调解委员会名称", details.committee),
            ("人民调解员", details.mediator),
            ("调解日期", details.date),
            ("纠纷的主要事实", details.facts),
            ("争议事项", details.disputed),
            ("各方当事人的责任", details.responsibilities),
            ("调解协议内容", details.agreement),
            ("履行方式", details.performance),
            ("履行期限", details.deadline),
        ],
        "record": [
            ("编号", details.number),
            ("调解时间", details.date),
            ("调解地点", details.place),
            ("人民调解员", details.mediator),
            ("记录人", details.recorder),
            ("纠纷的主要事实", details.facts),
            ("调解经过", details.process),
            ("调解结果", details.agreement),
        ],
    }[kind]
    missing = [label for label, value in wanted if not value.strip()]
    if not details.parties:
        missing.insert(0, "当事人")
    return missing


def _notice(
    name: str,
    details: CaseDetails,
    kind: DraftKind,
    entries: Sequence[Entry],
    appendix: Sequence[Quoted],
) -> Block:
    lines = [
        f"{NOTICE_HEAD}本稿由枫桥根据案卷“{name}”中调解员录入的内容生成"
        f"（{datetime.now():%Y-%m-%d %H:%M}），未录入的内容一律留空，没有替您填写或推测。"
    ]
    missing = _missing(details, kind)
    if missing:
        lines.append("以下栏目在案卷中未填写，已留空线，请补录或手写：" + "、".join(missing) + "。")
    for p in details.parties:
        if (
            p.id_number.strip()
            and len(p.id_number.strip()) == 18
            and not id_checksum_ok(p.id_number.strip())
        ):
            lines.append(f"{p.name or '当事人'}的身份证号码校验位不符，请与证件核对。")
    stale = [e.item.ref for e in entries if e.item.kind == "article" and e.record is None]
    if stale:
        lines.append(
            "案卷中以下法条在知识库中已找不到（可能已重建索引），未引用：" + "、".join(stale) + "。"
        )
    for e in entries:
        if isinstance(e.record, Article) and e.record.status != "现行有效":
            lines.append(f"{cite(e.record)}的状态为“{e.record.status}”，请确认是否仍应作为依据。")
    if kind == "agreement" and not any(isinstance(e.record, Article) for e in entries):
        lines.append("没有选择法条（或案卷中没有法条），“调解依据”一节未列条文。")
    lines.extend(f"{q.problem}，附录中未引用，请查阅正式文本。" for q in appendix if q.problem)
    return Block("notice", "\n".join(lines))


def _signatures(details: CaseDetails, *, label: str) -> list[Block]:
    blocks = [Block("text", f"当事人（{label}）：")]
    parties = details.parties or (Party(), Party())
    for p in parties:
        who = f"{p.role or '当事人'}{(' ' + p.name.strip()) if p.name.strip() else ''}"
        blocks.append(Block("field", "", label=who))
    mediator = details.mediator.strip()
    blocks.append(
        Block("field", "", label=f"人民调解员{(' ' + mediator) if mediator else ''}（签名）")
    )
    recorder = details.recorder.strip()
    blocks.append(Block("field", "", label=f"记录人{(' ' + recorder) if recorder else ''}（签名）"))
    return blocks


def _kept(blocks: Sequence[Block]) -> list[Block]:
    """The blocks on one page: the signature block never starts a page on its own.

    Every block but the last is kept with the next (``Block.keep``); the caller passes the
    paragraph before the signatures too, so a page break falls before that text instead.
    """
    return [replace(b, keep=True) for b in blocks[:-1]] + list(blocks[-1:])


def _statute_blocks(quoted: Sequence[Quoted]) -> list[Block]:
    blocks: list[Block] = []
    for q in quoted:
        if q.article is not None:
            blocks.extend(quote_blocks(q.article))
        else:
            blocks.append(Block("text", f"{q.problem}，请查阅正式文本。"))
    return blocks


def _renumbering_note(quoted: Sequence[Quoted]) -> list[Block]:
    """The 2022 interpretation cites the 2021 民事诉讼法's article numbers; say so where both show."""
    found = {q.statute.id: q.article for q in quoted if q.article is not None}
    interpretation = found.get("最高人民法院关于适用民事诉讼法的解释:351")
    current = found.get("民事诉讼法:205")
    if interpretation is None or current is None or "第二百零一条" not in interpretation.text:
        return []
    return [
        Block(
            "meta",
            "注：上引司法解释所称“民事诉讼法第二百零一条”是 2021 年修正文本的条文序号；"
            f"现行文本的相应条文为{cite(current)}（见上）。",
        )
    ]


def agreement_blocks(
    name: str,
    details: CaseDetails,
    entries: Sequence[Entry],
    kb: RecordSource,
    *,
    mask_ids: bool = False,
) -> list[Block]:
    """人民调解协议书 with the items of 人民调解法第二十九条, the law relied on and a 司法确认 appendix."""
    appendix = lookup(JUDICIAL_CONFIRMATION, kb)
    blocks = [
        _notice(name, details, "agreement", entries, appendix),
        Block("title", TITLES["agreement"]),
        Block("right", f"编号：{details.number.strip() or BLANK}"),
        Block("heading", "一、当事人基本情况"),
    ]
    if details.parties:
        blocks.extend(Block("text", party_line(p, mask=mask_ids)) for p in details.parties)
    else:
        blocks.extend(Block("text", party_line(Party(), mask=mask_ids)) for _ in range(2))
    blocks.append(Block("heading", "二、纠纷的主要事实、争议事项以及各方当事人的责任"))
    blocks.append(Block("subheading", "（一）纠纷的主要事实"))
    blocks.extend(_text_or_blank(details.facts, 4))
    blocks.append(Block("subheading", "（二）争议事项"))
    blocks.extend(_text_or_blank(details.disputed, 2))
    blocks.append(Block("subheading", "（三）各方当事人的责任"))
    blocks.extend(_text_or_blank(details.responsibilities, 2))
    blocks.append(Block("heading", "三、调解协议内容"))
    blocks.append(Block("text", "经人民调解委员会主持调解，各方当事人自愿达成如下协议："))
    blocks.extend(_text_or_blank(details.agreement, 5))
    blocks.append(Block("heading", "四、履行方式、期限"))
    blocks.append(Block("field", details.performance.strip(), label="履行方式"))
    blocks.append(Block("field", details.deadline.strip(), label="履行期限"))
    articles = [e.record for e in entries if isinstance(e.record, Article)]
    if articles:
        blocks.append(Block("heading", "五、调解依据"))
        for article in articles:
            blocks.extend(quote_blocks(article))
    copies = details.copies or (len(details.parties) + 1 if details.parties else 0)
    blocks.append(Block("heading", "六、其他" if articles else "五、其他"))
    blocks.append(Block("text", EFFECT))
    closing = [
        Block(
            "text",
            f"本协议书一式{copies if copies else BLANK}份，当事人各执一份，人民调解委员会留存一份。",
        ),
        *_signatures(details, label="签名、盖章或者按指印"),
        Block("right", f"{_committee(details)}（印章）"),
        Block("right", details.date.strip() or BLANK_DATE),
    ]
    blocks.extend(_kept(closing))
    blocks.append(Block("break"))
    blocks.append(Block("heading", "附：申请司法确认须知（法律条文原文）"))
    blocks.append(
        Block(
            "text",
            "以下条文摘自知识库，按原文引用，供当事人决定是否共同向人民法院申请司法确认时参阅。",
        )
    )
    blocks.extend(_statute_blocks(appendix))
    blocks.extend(_renumbering_note(appendix))
    blocks.extend(guidance_blocks(kb, details, entries, "agreement"))
    return blocks


def record_blocks(
    name: str,
    details: CaseDetails,
    entries: Sequence[Entry],
    kb: RecordSource,
    *,
    mask_ids: bool = False,
) -> list[Block]:
    """调解笔录: time, place, who took part, the 告知 of rights and duties, the session, the result."""
    rights = lookup(RIGHTS_AND_DUTIES, kb)
    parties = "；".join(f"{p.role or '当事人'} {p.name.strip() or BLANK}" for p in details.parties)
    blocks = [
        _notice(name, details, "record", entries, rights),
        Block("title", TITLES["record"]),
        Block("right", f"编号：{details.number.strip() or BLANK}"),
        Block("field", details.date.strip(), label="时间"),
        Block("field", details.place.strip(), label="地点"),
        Block("field", parties, label="当事人"),
        Block("field", details.others.strip(), label="其他参加人"),
        Block("field", details.mediator.strip(), label="人民调解员"),
        Block("field", details.recorder.strip(), label="记录人"),
    ]
    if details.parties:
        blocks.append(Block("heading", "当事人基本情况"))
        blocks.extend(Block("text", party_line(p, mask=mask_ids)) for p in details.parties)
    blocks.append(Block("heading", "告知事项"))
    blocks.append(Block("text", "人民调解员向当事人告知在人民调解活动中享有的权利和履行的义务："))
    blocks.extend(_statute_blocks(rights))
    blocks.append(Block("field", "", label="当事人是否听清、是否同意调解"))
    blocks.append(Block("heading", "纠纷的主要事实与争议事项"))
    blocks.extend(_text_or_blank(details.facts, 3))
    if details.disputed.strip():
        blocks.append(Block("text", f"争议事项：{details.disputed.strip()}"))
    blocks.append(Block("heading", "调解经过"))
    blocks.extend(_text_or_blank(details.process, 8))
    blocks.append(Block("heading", "调解结果"))
    blocks.extend(_text_or_blank(details.agreement, 3))
    closing = [
        Block("text", "以上笔录已经当事人阅读（或已向当事人宣读），确认无误。"),
        *_signatures(details, label="签名或者按指印"),
        Block("right", details.date.strip() or BLANK_DATE),
    ]
    blocks.extend(_kept(closing))
    blocks.extend(guidance_blocks(kb, details, entries, "record"))
    return blocks


def draft_blocks(
    kind: DraftKind,
    name: str,
    details: CaseDetails,
    items: Sequence[Item],
    kb: RecordSource,
    *,
    mask_ids: bool = False,
    basis: Sequence[str] | None = None,
) -> list[Block]:
    """The blocks of a draft; render them with ``ui.documents.export.render(blocks, fmt, "official")``.

    Args:
        basis: the article refs the mediator chose for 调解依据 (None: every article of the
            案卷); cases and unchosen articles are left out of the draft.
    """
    if basis is not None:
        chosen = set(basis)
        items = [i for i in items if i.kind == "article" and i.ref in chosen]
    entries = resolve(items, kb)
    make = agreement_blocks if kind == "agreement" else record_blocks
    return make(name, details, entries, kb, mask_ids=mask_ids)


def draft_notice(blocks: Sequence[Block]) -> str:
    """The note about the draft (what was left blank, checks), for the screen; "" if none."""
    for b in blocks:
        if b.kind == "notice" and b.text.startswith(NOTICE_HEAD):
            return b.text[len(NOTICE_HEAD) :]
    return ""


def printable(blocks: Sequence[Block]) -> list[Block]:
    """The blocks of a draft for a PDF: the note about the draft (which a PDF cannot lose) out."""
    return [b for b in blocks if not (b.kind == "notice" and b.text.startswith(NOTICE_HEAD))]
