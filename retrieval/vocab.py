"""Lay-to-legal vocabulary: the words people use mapped to the words statutes use."""

from __future__ import annotations

import re
from collections.abc import Iterable

# lay phrase -> statute terms. Kept to common, unambiguous pairs; a phrase is
# matched as a substring of the question, so keep keys specific. A key written with
# "…" (狗…咬) also matches with other words between its parts, in order, inside one
# sentence of the question ("狗把我孩子咬伤了"): see ``matches``.
LAY_TO_LEGAL: dict[str, tuple[str, ...]] = {
    # family
    "老公": ("配偶", "夫妻", "丈夫"),
    "老婆": ("配偶", "夫妻", "妻子"),
    "媳妇": ("配偶", "夫妻", "妻子"),
    "丈夫": ("配偶", "夫妻"),
    "妻子": ("配偶", "夫妻"),
    "男方": ("夫妻", "一方"),
    "女方": ("夫妻", "一方"),
    "打我": ("家庭暴力", "虐待"),
    "打人": ("殴打", "伤害"),
    "家暴": ("家庭暴力",),
    "打骂": ("家庭暴力", "虐待"),
    "出轨": ("重婚", "与他人同居", "过错"),
    "小三": ("与他人同居", "重婚"),
    "外遇": ("与他人同居", "过错"),
    "分居": ("分居", "感情不和", "离婚"),
    "闹离婚": ("离婚",),
    "不同意离婚": ("要求离婚", "离婚诉讼", "感情确已破裂", "调解"),
    "不肯离婚": ("要求离婚", "离婚诉讼", "感情确已破裂"),
    "不离婚": ("要求离婚", "离婚诉讼", "感情确已破裂"),
    "想离婚": ("要求离婚", "离婚诉讼"),
    "离婚": ("离婚",),
    "孩子归谁": ("抚养", "子女", "离婚"),
    "孩子跟谁": ("抚养", "子女", "离婚"),
    "抚养孩子": ("抚养", "子女"),
    "看孩子": ("探望",),
    "看望孩子": ("探望",),
    "养老": ("赡养",),
    "不养老人": ("赡养", "义务"),
    "不管老人": ("赡养",),
    "父母的房子": ("遗产", "继承"),
    "老人去世": ("继承", "遗产"),
    "去世": ("死亡", "继承"),
    "过世": ("死亡", "继承"),
    "遗书": ("遗嘱",),
    "赌债": ("赌博", "债务"),
    "赌钱": ("赌博",),
    "赌输": ("赌博",),
    "分家产": ("遗产", "分割"),
    "彩礼": ("彩礼", "婚约财产", "返还"),
    "结婚证": ("结婚登记",),
    "领证": ("结婚登记",),
    "私生子": ("非婚生子女",),
    "后妈": ("继父母", "继子女"),
    "继父": ("继父母", "继子女"),
    # work
    "工资": ("劳动报酬", "工资"),
    "欠薪": ("拖欠", "劳动报酬"),
    "拖欠…工资": ("拖欠", "劳动报酬"),
    "工钱": ("劳动报酬",),
    "薪水": ("劳动报酬",),
    "包工头": ("实际施工人", "承包", "劳动报酬"),
    "老板": ("用人单位", "雇主"),
    "公司": ("用人单位",),
    "单位": ("用人单位",),
    "厂里": ("用人单位",),
    "开除": ("解除劳动合同",),
    "辞退": ("解除劳动合同",),
    "炒鱿鱼": ("解除劳动合同",),
    "裁员": ("裁减人员", "解除劳动合同"),
    "辞职": ("解除劳动合同", "劳动者提前"),
    "离职": ("解除劳动合同",),
    "合同到期": ("劳动合同期满", "终止"),
    "没…签…合同": ("书面劳动合同", "二倍工资"),
    "没有签合同": ("书面劳动合同", "二倍工资"),
    "不…签…合同": ("书面劳动合同", "二倍工资"),
    "加班": ("延长工作时间", "加班费"),
    "社保": ("社会保险",),
    "五险": ("社会保险",),
    "受伤": ("伤害", "工伤", "损害"),
    "干活…受伤": ("工伤", "劳务", "损害"),
    "打工": ("劳动者", "劳务"),
    "试用": ("试用期",),
    "补偿金": ("经济补偿",),
    "n+1": ("经济补偿", "代通知金"),
    # money
    "欠钱": ("借款", "债务", "还款"),
    "欠款": ("借款", "债务"),
    "借钱": ("借款", "借款合同"),
    "借给": ("借款", "出借人"),
    "不还钱": ("借款", "逾期", "还款"),
    "还钱": ("还款", "借款"),
    "借条": ("借据", "借款"),
    "欠条": ("债务", "借款"),
    "担保人": ("保证人", "保证"),
    "作保": ("保证",),
    "利息": ("利息", "利率"),
    "高利贷": ("利率", "民间借贷"),
    "定金": ("定金",),
    "押金": ("押金", "返还"),
    "退钱": ("返还", "退款"),
    "骗": ("欺诈",),
    "被骗": ("欺诈",),
    "假货": ("欺诈", "产品质量"),
    "退货": ("退货",),
    "网购": ("网络交易", "消费者"),
    "商家": ("经营者",),
    "卖家": ("经营者", "出卖人"),
    "买家": ("买受人", "消费者"),
    # housing & neighbours
    "邻居": ("相邻", "不动产权利人"),
    "噪音": ("噪声", "相邻", "排放"),
    "吵": ("噪声",),
    "装修": ("装饰装修", "噪声"),
    "漏水": ("相邻", "排水", "损害"),
    "挡光": ("采光", "日照", "通风"),
    "挡住阳光": ("采光", "日照"),
    "通道": ("通行", "相邻"),
    "过路": ("通行", "相邻"),
    "房东": ("出租人",),
    "租客": ("承租人",),
    "租房": ("租赁", "承租人"),
    "房租": ("租金",),
    "二房东": ("转租",),
    "物业": ("物业服务人", "物业服务"),
    "物业费": ("物业费",),
    "停车位": ("车位", "车库"),
    "宅基地": ("宅基地使用权",),
    "盖房": ("建造", "宅基地"),
    "拆迁": ("征收", "补偿"),
    "承包地": ("土地承包经营权",),
    "地被占": ("侵害", "土地承包经营权"),
    "过户": ("转移登记", "不动产登记"),
    "房产证": ("不动产登记", "权属证书"),
    # harm
    "撞了": ("交通事故", "损害"),
    "撞伤": ("交通事故", "损害赔偿"),
    "车祸": ("交通事故", "机动车"),
    "被狗咬": ("饲养动物", "损害"),
    "狗…咬": ("饲养动物", "损害"),
    "楼上…掉": ("抛掷物品", "坠落", "建筑物"),
    "高空": ("抛掷物品", "坠落"),
    "医院": ("医疗机构", "医疗"),
    "看病": ("诊疗", "医疗"),
    "医生": ("医务人员", "诊疗"),
    "打架": ("殴打", "伤害"),
    "骂人": ("侮辱", "名誉"),
    "造谣": ("诽谤", "名誉权"),
    "偷拍": ("隐私", "肖像"),
    "赔多少": ("赔偿", "损失"),
    "赔偿多少": ("赔偿", "损失"),
    "坐牢": ("刑罚", "有期徒刑"),
    "拘留": ("拘留", "治安管理处罚"),
    "报警": ("公安机关",),
    "起诉": ("诉讼", "人民法院"),
    "打官司": ("诉讼", "人民法院"),
    "过期": ("诉讼时效", "期限"),
    "多久": ("期限", "时效"),
    "小孩": ("未成年人",),
    "孩子": ("子女", "未成年人"),
    "老人": ("老年人", "父母"),
}


GAP = "…"
MAX_GAP = 12  # characters allowed between the parts of a "…" key
_SENTENCE_END = re.compile(r"[。.！!？?；;\n]")


def matches(lay: str, question: str) -> bool:
    """Whether the lay phrase ``lay`` occurs in ``question``: as a substring, or, for a
    key with "…", its parts in order within one sentence, at most ``MAX_GAP`` characters
    apart (狗…咬 matches "狗没拴绳，把我孩子咬伤了", not "狗丢了。孩子被咬")."""
    if GAP not in lay:
        return lay in question
    parts = lay.split(GAP)
    if "".join(parts) in question:
        return True
    for sentence in _SENTENCE_END.split(question):
        if _in_order(parts, sentence):
            return True
    return False


def _in_order(parts: list[str], text: str) -> bool:
    start = text.find(parts[0])
    while start >= 0:
        end = start + len(parts[0])
        for part in parts[1:]:
            at = text.find(part, end)
            if at < 0 or at - end > MAX_GAP:
                break
            end = at + len(part)
        else:
            return True
        start = text.find(parts[0], start + 1)
    return False


def expand(question: str, table: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """Statute terms for the lay phrases found in ``question`` (deduplicated, in order)."""
    table = LAY_TO_LEGAL if table is None else table
    out: dict[str, None] = {}
    for lay, legal in table.items():
        if matches(lay, question):
            for term in legal:
                out.setdefault(term, None)
    return list(out)


# Who the question is about, not what: these words' statute terms (邻居 → 相邻,
# 不动产权利人; 公司 → 用人单位) name a party, and a clause or article matching only them
# shares a party with the question, not its subject.
PARTY_WORDS: tuple[str, ...] = tuple(
    "邻居 丈夫 妻子 老公 老婆 媳妇 男方 女方 公司 单位 老板 包工头 厂里 房东 租客 商家 卖家 买家 医院".split()
)


def split_terms(
    question: str, table: dict[str, tuple[str, ...]] | None = None
) -> tuple[list[str], list[str]]:
    """``expand(question)`` parted into the subject's statute terms (from phrases naming what
    happened: 狗…咬 → 饲养动物) and the parties' (from ``PARTY_WORDS`` only: 邻居 → 相邻);
    a term both supply counts as the subject's."""
    table = LAY_TO_LEGAL if table is None else table
    subject: dict[str, None] = {}
    parties: dict[str, None] = {}
    for lay, legal in table.items():
        if matches(lay, question):
            into = parties if lay in PARTY_WORDS else subject
            for term in legal:
                into.setdefault(term, None)
    return list(subject), [t for t in parties if t not in subject]


def expand_text(question: str, table: dict[str, tuple[str, ...]] | None = None) -> str:
    """``question`` followed by its statute terms, for the keyword retriever."""
    extra = [t for t in expand(question, table) if t not in question]
    return question + (" " + " ".join(extra) if extra else "")


def terms(table: dict[str, tuple[str, ...]] | None = None) -> Iterable[str]:
    """Every word of the table, so the tokenizer keeps them whole."""
    table = LAY_TO_LEGAL if table is None else table
    for lay, legal in table.items():
        yield lay.replace(GAP, "")
        yield from legal
