"""脱敏: mask natural persons' names, ID/phone/bank numbers, detailed addresses and plates."""

from __future__ import annotations

import difflib
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from ingest.chinese import HAN, is_han

logger = logging.getLogger(__name__)

# Kinds reported in IngestReport.notes, with the placeholder each is masked to.
PLACEHOLDERS: dict[str, str] = {
    "身份证号": "[身份证号]",
    "银行卡号": "[银行卡号]",
    "手机号": "[手机号]",
    "固定电话": "[电话]",
    "车牌号": "[车牌号]",
    "地址": "[地址]",
}

# Common single surnames (百家姓, by frequency) and compound surnames.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘"
    "祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟"
    "艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞"
    "姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝萧钮鞠丰蔺薄闻乐戈阎郜庹於"
    "国原居衣宦帅果揭浦邰璩盖通贲鄢练"
)
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "司徒",
    "东方",
    "皇甫",
    "慕容",
    "夏侯",
    "公孙",
    "令狐",
    "长孙",
    "宇文",
    "尉迟",
    "端木",
    "独孤",
    "南宫",
    "轩辕",
)

# Words that name a person's role in a dispute; the token after one is a name
# when it starts with a surname. Officials' roles themselves are never masked.
ROLES: tuple[str, ...] = tuple(
    (
        "原告 被告 申请人 被申请人 上诉人 被上诉人 第三人 当事人 调解员 人民调解员 证人 丈夫 妻子 儿子 女儿 父亲 母亲 哥哥 弟弟 姐姐 妹妹 邻居 业主 租客 房东 "
        "借款人 出借人 村民 居民 员工 职工 工人 司机 患者 老板 法定代表人 代理人 户主 承包人 发包人 出租人 承租人 雇主 雇员 主任 书记 民警 法官 律师 医生 "
        "男方 女方 之子 之女 之妻 之夫 前妻 前夫 老人 村主任 组长 经理 负责人 联系人 委托人 受害人 肇事者 债务人 债权人 担保人 保证人 姓名 住户 承包户 邻户 "
        "包工头 收件人 家属 长子 次子 三子 长女 次女 甲方 乙方 孙子 孙女 外孙 租户 店主 车主 房主 死者 伤者 监护人 村委会主任 会计 保姆 同事 朋友 同学 亲戚 "
        "户名 收款人 开户人 账户名 持卡人 签收人"
    ).split()
)
# Tokens jieba tags as names that are not names in this domain.
_NOT_NAMES = set(
    (
        "万元 上官 于是 于此 于法 付款 付清 任何 何时 党员 全部 关于 关系 农民工 凌晨 包括 包装 华为 华通 单位 卫生 原告人 史料 司法 合力 向前 周年 和好 "
        "和小三 和新 和解 孙子 孟某某 宁波 安全 宫颈 尚未 左右 师傅 常常 常时间 平安 应先行 应当 成年 成立 房产 房屋 房租 文化 方式 方面 时间 明显 明知 "
        "明确 景区 柴油 欧尚 武汉 毛坯 江苏 温江 游戏行 牛奶 牟利 申请人 白天 盖房子 石油 程序 童装 管理 董事 解除 谷歌 路口 车辆 连续 邱某 金额 钱财 项目 "
        "马上 高度 高空 高速 黄金 齐全"
    ).split()
)
_NAME_CHARS = re.compile(rf"^[{HAN}]{{2,4}}$")
# Characters that do not occur inside a given name in practice; a candidate
# containing one is a phrase, not a name.
_NON_NAME_CHARS = set(
    "的了是在和与及或向将把被对从于以为有无不也都就已未某等说称诉要因所这那其之个们我你您他她它吗呢吧啊系"
)

_ID = re.compile(
    r"(?<![\dA-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])"
)
_BANK = re.compile(r"(?<![\dA-Za-z])(?:\d{4}[ -]?){3}\d{4}(?:[ -]?\d{1,3})?(?![\dA-Za-z])")
_MOBILE = re.compile(r"(?<![\d])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(
    r"(?<![\d])(?:[(（]0\d{2,3}[)）]\s?|0\d{2,3}[ -－])?[2-8]\d{2,3}[ -]?\d{4}(?:[转-]\d{1,5})?(?!\d)"
)
_LANDLINE_CTX = re.compile(r"(?:电话|座机|固话|联系方式|联系电话|致电|拨打|传真)[：:为是]?\s*$")
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•\s]?[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警]{1,2}(?![A-Za-z0-9])"
)
# A detailed address: place words then a number with a unit (号, 栋, 室, 组 …).
_ADDR = re.compile(
    rf"(?P<run>[{HAN}A-Za-z]{{2,40}}?)"
    r"(?P<tail>(?:[\d０-９]+|[一二三四五六七八九十百]+)(?:号楼|号院|号|栋|幢|单元|室|组|楼|层|弄)"
    r"(?:[-－]?(?:[\d０-９A-Za-z]+|[一二三四五六七八九十]+)(?:号楼|号院|号|栋|幢|单元|室|组|楼|层|弄)?)*)"
)
_PLACE_WORD = re.compile(
    r"路|街|大道|巷|弄|胡同|村|社区|小区|花园|公寓|大厦|家园|苑|新村|里|组|庄|屯|镇|乡"
)
# Administrative units, for keeping an address down to the county/district.
_ADMIN = re.compile(
    r"(?P<p>省|自治区|特别行政区)|(?P<c>(?<!超)市(?![场民])|自治州|地区|盟)"
    r"|(?P<x>(?<![小社园景校厂矿营])区|县|旗)"
)
_ADDR_LEAD = re.compile(
    r"^.*?(?:家住|现住|住址|地址|住所地|住所|户籍地|居住在|居住于|住在|寄至|位于|住|在|于|为|至|到|是)"
)


def admin_prefix(run: str) -> int:
    """Length of the leading province/city/county part of an address run (0 if none).

    Walks 省 → 市 → 区/县 and stops at the first county-level unit, so
    ``南山区科技园南区深南大道`` keeps ``南山区`` and masks the rest.
    """
    keep = level = pos = 0
    for m in _ADMIN.finditer(run):
        lv = 1 if m.group("p") else 2 if m.group("c") else 3
        if m.group("c") and m.group(0) == "市" and level == 2:
            lv = 3  # a county-level city: 绍兴市诸暨市
        if level and (m.start() - pos > 6 or lv <= level):
            break
        keep, pos, level = m.end(), m.end(), lv
        if level == 3:
            break
    return keep


_PROTECTED = re.compile(r"(《[^《》\n]{1,80}》)")
# A space (ASCII or full-width) typed between the characters of a Chinese name.
_SPACE_IN_NAME = re.compile(rf"(?<=[{HAN}])[ \u3000]{{1,2}}(?=[{HAN}])")
_WHITE = re.compile(r"[ \u3000]+")
# Common surnames in Hanyu Pinyin, for names written in Latin letters (Zhang San).
PINYIN_SURNAMES = (
    "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Gao Lin Luo "
    "Zheng Liang Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Yuan Pan Yu Jiang "
    "Cai Du Ye Cheng Su Wei Lü Lv Ding Ren Shen Yao Lu Cui Zhong Tan Fan Jin Shi Liao Jia "
    "Xia Fu Fang Bai Zou Meng Xiong Qin Qiu Yin Xue Yan Duan Lei Hou Long Tao Kong Mao Qian "
    "Qi Wen Kang Niu Hao Gu Gong Shao Mo Chang Dai Ouyang Sima Zhuge Shangguan Situ"
).split()
_PINYIN_NAME = re.compile(
    r"(?<![A-Za-z])(?P<sur>"
    + "|".join(sorted(PINYIN_SURNAMES, key=len, reverse=True))
    + r"|"
    + "|".join(s.upper() for s in sorted(PINYIN_SURNAMES, key=len, reverse=True))
    + r")[ \u3000]+(?P<given>[A-Z][a-z]{1,12}(?:[- ]?[A-Za-z][a-z]{1,12})?)(?![A-Za-z])"
)


def _canon(name: str) -> str:
    """One spelling of a name: no spaces inside a Chinese name, one between pinyin words."""
    return _SPACE_IN_NAME.sub("", _WHITE.sub(" ", name))


def _spaced(name: str) -> str:
    """A pattern for ``name`` that also matches it with spaces between its characters."""
    if _PINYIN_NAME.fullmatch(name):
        return r"[ \u3000]+".join(map(re.escape, name.split()))
    return r"[ \u3000]{0,2}".join(map(re.escape, name))


class Anonymiser:
    """Masks one case's text; the same person gets the same mask in every field.

    Args:
        names: names known to belong to natural persons (e.g. the parties column).
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.mapping: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        for name in names:
            name = _canon(name.strip())  # 张 三 (the parties column)
            if (_NAME_CHARS.match(name) and "某" not in name) or _PINYIN_NAME.fullmatch(name):
                self._mask_for(name)

    def _mask_for(self, name: str) -> str:
        if name in self.mapping:
            return self.mapping[name]
        pinyin = _PINYIN_NAME.fullmatch(name)
        if pinyin:  # Zhang San → Zhang某
            sur, mask = pinyin.group("sur"), pinyin.group("sur") + "某"
        else:
            sur = name[:2] if name[:2] in COMPOUND_SURNAMES else name[0]
            mask = sur + "某" * max(1, len(name) - len(sur))
        taken = set(self.mapping.values())
        if mask in taken:
            for extra in "乙丙丁戊己庚辛壬癸":
                if mask + extra not in taken:
                    mask = mask + extra
                    break
        self.mapping[name] = mask
        return mask

    def __call__(self, text: str, *, find: bool = True) -> str:
        """Mask ``text``.

        Args:
            find: look for new names (slow: part-of-speech tagging); with False
                only names already known to this case are masked, plus numbers
                and addresses.
        """
        if not text:
            return text
        # Titles in 《》 (laws, contracts) are never personal data: leave them whole.
        parts = _PROTECTED.split(text)
        for i in range(0, len(parts), 2):
            part = self._mask_addresses(self._mask_numbers(parts[i]))
            if find:
                # 张 三: a space typed inside a name hides it from the segmenter
                for name in find_names(_SPACE_IN_NAME.sub("", part)):
                    self._mask_for(name)
                for m in _PINYIN_NAME.finditer(part):
                    self._mask_for(_canon(m.group(0)))
            parts[i] = part
        for i in range(0, len(parts), 2):
            parts[i] = self._mask_names(parts[i])
        return "".join(parts)

    def _sub(self, kind: str, pattern: re.Pattern[str], text: str) -> str:
        def repl(m: re.Match[str]) -> str:
            self.counts[kind] += 1
            return PLACEHOLDERS[kind]

        return pattern.sub(repl, text)

    def _mask_numbers(self, text: str) -> str:
        def id_or_bank(m: re.Match[str]) -> str:
            ctx = text[max(0, m.start() - 8) : m.start()]
            kind = "银行卡号" if re.search(r"卡|账", ctx) else "身份证号"
            self.counts[kind] += 1
            return PLACEHOLDERS[kind]

        text = _ID.sub(id_or_bank, text)
        text = self._sub("银行卡号", _BANK, text)
        text = self._sub("手机号", _MOBILE, text)

        def landline(m: re.Match[str]) -> str:
            s = m.group(0)
            has_area = s[0] in "0(（"
            if not has_area and not _LANDLINE_CTX.search(text[max(0, m.start() - 10) : m.start()]):
                return s
            self.counts["固定电话"] += 1
            return PLACEHOLDERS["固定电话"]

        text = _LANDLINE.sub(landline, text)
        return self._sub("车牌号", _PLATE, text)

    def _mask_addresses(self, text: str) -> str:
        def repl(m: re.Match[str]) -> str:
            run = m.group("run")
            keep = admin_prefix(run)
            if not keep:
                lead = _ADDR_LEAD.match(run)
                keep = lead.end() if lead else 0
            rest = run[keep:]
            tail = m.group("tail")
            # 二层楼房, 第三组: a number in words is an address only as a village group (五组).
            if not re.search(r"[\d０-９]", tail) and not re.fullmatch(
                r"[一二三四五六七八九十]+组", tail
            ):
                return m.group(0)
            # 借款3号 …: no place word after the kept part, not an address.
            if not _PLACE_WORD.search(rest) and not (rest == "" and admin_prefix(run)):
                return m.group(0)
            self.counts["地址"] += 1
            return run[:keep] + PLACEHOLDERS["地址"]

        text = _ADDR.sub(repl, text)
        # Two masked parts of one address (路 + 小区) become one placeholder.
        merged = text.replace(PLACEHOLDERS["地址"] * 2, PLACEHOLDERS["地址"])
        joined = text.count(PLACEHOLDERS["地址"]) - merged.count(PLACEHOLDERS["地址"])
        if joined:
            self.counts["地址"] -= joined
        return merged

    def _mask_names(self, text: str) -> str:
        if not self.mapping:
            return text
        names = sorted(self.mapping, key=len, reverse=True)
        # each name also with spaces between its characters (张 三, 张　三)
        pattern = re.compile("|".join(_spaced(n) for n in names))

        def repl(m: re.Match[str]) -> str:
            self.counts["姓名"] += 1
            return self.mapping[_canon(m.group(0))]

        return pattern.sub(repl, text)


# Words after a surname that make a form of address, not a name: 王大爷, 张师傅.
HONORIFICS = (
    "大爷", "大妈", "大娘", "大姐", "大哥", "大叔", "大婶", "阿姨", "师傅", "老师", "先生", "女士",
    "小姐", "老板", "总", "经理", "主任", "书记", "队长", "村长", "组长", "叔", "婶", "伯", "姨",
    "奶奶", "爷爷", "医生", "律师", "警官", "法官", "家", "氏", "某", "姓",
)  # fmt: skip


def _is_name(token: str) -> bool:
    if not _NAME_CHARS.match(token) or token in _NOT_NAMES:
        return False
    if token[:2] in COMPOUND_SURNAMES:
        given = token[2:]
    elif token[0] in SURNAMES:
        given = token[1:]
    else:
        return False
    if not 1 <= len(given) <= 2 or given in HONORIFICS or given[0] in "某甲乙丙丁":
        return False
    if given[-1] in _PLACE_AFTER or (len(given) == 2 and given[0] in "本每当该此其"):
        return False  # 吴中区, 金山路; 于本周, 于每月
    return not any(ch in _NON_NAME_CHARS for ch in given)


@lru_cache(maxsize=1)
def _posseg():  # type: ignore[no-untyped-def]
    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(logging.WARNING)
    for role in ROLES:
        jieba.add_word(role, freq=200000, tag="n")
    for word in _NOT_NAMES:
        jieba.add_word(word, tag="n")
    return pseg


_FUNCTION_TAGS = (
    "v",
    "d",
    "p",
    "c",
    "u",
    "m",
    "q",
    "r",
    "t",
    "f",
    "a",
    "x",
    "y",
    "e",
    "o",
    "ns",
    "s",
)
# Characters that typically follow a name (verbs, particles, kinship): a 2-character
# name candidate followed by one more character and then one of these is a
# 3-character name cut short by the segmenter (马晓|东家 → 马晓东).
_FOLLOW = set(
    "家的了与和及诉系称因于在向将把被对等是说表提要请也已没未不为到来去住出今曾自从就以所均都"
    "一两男女年经会后前给拿借欠签支付无有代承现夫妻之同拖驾认证搬先又再还便即却仍且由主申起共"
    "作私擅母父儿妹弟兄姐哥系、，。；：（）,;:() "
)
_PLACE_AFTER = set("区县市省镇乡村路街道巷州")
# After a role word (原告, 乙方：) a surname plus almost anything is a name; only
# verbs, prepositions, particles and the like rule it out (租客于洋 is tagged a place).
_NOT_AFTER_ROLE = ("v", "p", "c", "u", "d", "x", "y", "e", "o", "f", "q")


def _blocks_name(tag: str) -> bool:
    """Tags that cannot follow a role as (part of) a name; ``vn`` (建设) can."""
    return tag.startswith(_NOT_AFTER_ROLE) and tag != "vn"


_ROLE_TAILS = tuple(r for r in ROLES if len(r) >= 2)


def _common_word(word: str, *, name_tags_too: bool = True) -> bool:
    """True when the segmenter's dictionary knows ``word`` as an ordinary word (谢谢, 许可, 姐姐).

    Args:
        name_tags_too: also count very frequent words the dictionary tags as
            names or places (谢谢 and 武汉 are; a given name such as 建华 is not judged this way).
    """
    import jieba
    import jieba.posseg

    if len(word) < 2:
        return False
    freq = jieba.dt.FREQ.get(word) or 0
    tag = jieba.posseg.dt.word_tag_tab.get(word, "")
    if not freq:
        return False
    if tag.startswith(("nr", "ns", "nz", "t")):
        return name_tags_too and freq >= 200
    return freq >= 20


# Characters common in given names. A name found only by the segmenter's person
# tag must use them (安全法, 商业 and 严肃性 are not names); role context needs no list.
GIVEN_NAME_CHARS = set(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞建国文辉力林斌宇浩凯健俊帆帅旭宁"
    "龙峰波兰梅琳莉雪燕婷慧颖倩晶琴云凤洁荣海亮东新志春兵成德生金祥福发武立安彬晨阳丹蕾薇璐"
    "欣怡佳悦思雨婉嘉琪瑶雯晓小大宏鑫晖昊然子轩涵梓博文毅翔鸿海天恒永庆喜贵富贤良善仁义礼智信"
    "忠孝勤俭秋冬夏珍珠翠兴旺盛昌隆泽霖鑫淼森焱垚琦瑞祥麟凤鹤鹰松柏竹菊莲荷桃杏芬芝茹蓉蓓蕊"
    "岚峻嵘岩崇山川江河湖波涛浪清澄洁澜滨潇湘沅泉源溪流航舟远达通顺利维纪建设国家民卫红兵学军"
    "振兴中华爱民保全胜利解放抗美援朝文革跃进向东方亮光辉煌灿烂璀璨明亮晴朗雅静娴淑贞惠慈莹"
    "月星辰日晖曦朝霞彩虹虹玲珑琼瑛瑾瑜璇璋琛琨珺珏蓝青翠碧紫丹朱彤红黎白素洪宝家振锋锐钢铁"
    "铭钰锦铮鑫镇长久永远恒常乐欢笑喜悦怡愉快康健福寿禄财富贵荣华春梅兰竹菊桂荷莲花芳草木森林"
    "子丑寅卯辰巳午未申酉戌亥甲乙丙丁戊己庚辛壬癸一二三四五六七八九十百千万亿元正方圆"
)


def _weak_ok(cand: str) -> bool:
    """A name found only by the segmenter's person tag must look like one and not be an ordinary word."""
    sur = 2 if cand[:2] in COMPOUND_SURNAMES else 1
    given = cand[sur:]
    if not all(ch in GIVEN_NAME_CHARS for ch in given):
        return False
    return not _common_word(cand) and not _common_word(given, name_tags_too=False)


# Surname characters that are far more often function words (和, 向, 于 …) or the
# first character of an ordinary word (全责, 单方, 原则, 商量): after a role word
# they still need a name-like given name.
_WORDY_SURNAMES = set("和向于与及同跟对把被给让将在从为以由比自经因全单原商成房时")
_PEOPLE_WORDS = {
    "姐姐", "哥哥", "弟弟", "妹妹", "父亲", "母亲", "儿子", "女儿", "孩子", "丈夫", "妻子", "老公",
    "老婆", "前夫", "前妻", "继母", "继父", "爸爸", "妈妈", "爷爷", "奶奶", "外婆", "外公", "公公",
    "婆婆", "岳父", "岳母", "男方", "女方", "小三", "法院", "对方", "双方", "别人", "他人", "大家",
    "子女", "父母", "老人", "朋友", "同事", "单位", "公司", "孙子", "孙女", "本人", "自己",
}  # fmt: skip


def _strong_ok(cand: str) -> bool:
    """After a role word a surname plus a given name is a name, unless it reads as ordinary words."""
    sur = 2 if cand[:2] in COMPOUND_SURNAMES else 1
    given = cand[sur:]
    if given in _PEOPLE_WORDS:
        return False
    if cand[0] in _WORDY_SURNAMES and sur == 1:
        return (
            all(ch in GIVEN_NAME_CHARS for ch in given)
            and not _common_word(given)
            and not _common_word(cand)
        )
    return True


def find_names(text: str) -> list[str]:
    """Personal names in ``text``.

    Strong evidence: a role word right before (原告张三, 甲方：李四, 长子…、次子…).
    Weak evidence: jieba's person tag, accepted only when neither the candidate
    nor its given name is an ordinary dictionary word (谢谢 and 和姐姐 are not names).
    """
    pseg = _posseg()
    tokens = [(w, f) for w, f in pseg.cut(text)]
    found: list[str] = []
    n = len(tokens)
    last_name_at = -9
    offset = 0
    for i, (w, f) in enumerate(tokens):
        start, offset = offset, offset + len(w)
        nxt, nf = tokens[i + 1] if i + 1 < n else ("", "")
        prev = tokens[i - 1][0] if i > 0 else ""
        prev2 = tokens[i - 2][0] if i > 1 else ""
        strong = (
            prev in ROLES
            or prev.endswith(_ROLE_TAILS)
            or (prev in ("：", ":") and prev2 in ROLES)
            or (prev in ("、", "和", "与", "及") and last_name_at == i - 2)
        )
        cand = ""
        if (len(w) == 1 and w in SURNAMES) or w in COMPOUND_SURNAMES:
            if strong and len(nxt) == 2 and nxt[1] in _FOLLOW and not _is_name(w + nxt):
                nxt = nxt[0]  # 李|雷系同事: the segmenter glued 系 to the given name
            if nxt and len(nxt) <= 2 and _NAME_CHARS.match(w + nxt):
                if strong and not _blocks_name(nf) and _strong_ok(w + nxt):
                    cand = w + nxt
                elif (
                    (f.startswith("nr") or nf.startswith("nr"))
                    and _weak_ok(w + nxt)
                    and _strong_ok(w + nxt)
                ):
                    cand = w + nxt
        elif strong and _is_name(w) and not _blocks_name(f) and _strong_ok(w):
            cand = w
        elif strong and len(w) == 3 and w[-1] in _FOLLOW and _is_name(w[:2]) and _strong_ok(w[:2]):
            cand = w[:2]  # 熊二系 → 熊二
        elif f.startswith("nr") and _is_name(w) and _weak_ok(w) and _strong_ok(w):
            cand = w
        if cand and _is_name(cand):
            after = text[start + len(cand) : start + len(cand) + 2]
            if after[:1] in _PLACE_AFTER or after[:1] == "某":
                continue  # 吴中区 is a place; 向宁某某 is a preposition before a masked name
            compound = cand[:2] in COMPOUND_SURNAMES
            given = len(cand) - (2 if compound else 1)
            cjk_next = len(after) == 2 and is_han(after[0])
            if (
                given == 1
                and cjk_next
                and after[0] not in _FOLLOW
                and (
                    after[1] in _FOLLOW
                    # 司马光|明: a compound surname's two-character given name, split
                    # because jieba knows the historical 司马光
                    or (compound and after[0] not in _NON_NAME_CHARS and nxt == after[0])
                )
            ):
                cand += after[0]
                if cand in _NOT_NAMES:
                    continue
            found.append(cand)
            last_name_at = i + (1 if len(cand) > len(w) else 0)
    return found


def anonymise(text: str, *, names: Iterable[str] = ()) -> tuple[str, Counter[str]]:
    """Mask one text on its own; returns the masked text and counts per kind."""
    anon = Anonymiser(names)
    out = anon(text)
    return out, anon.counts


def masked_positions(source: str, masked: str) -> set[int]:
    """Character positions of ``source`` that ``masked`` replaced or removed."""
    matcher = difflib.SequenceMatcher(None, source, masked, autojunk=False)
    out: set[int] = set()
    for op, i1, i2, _, _ in matcher.get_opcodes():
        if op in ("replace", "delete"):
            out.update(range(i1, i2))
    return out


def masking_scores(
    inputs: Sequence[str], expected: Sequence[str], outputs: Sequence[str]
) -> dict[str, float]:
    """Character-level precision/recall of masking, and the share of sentences exactly right.

    A character counts as masked when the masked text replaced or removed it
    (``张建国`` → ``张某某`` masks 建 and 国). Precision: of the characters the
    system masked, the share the expected output masks too; recall the reverse.
    """
    tp = fp = fn = exact = 0
    for src, want, got in zip(inputs, expected, outputs, strict=True):
        w, g = masked_positions(src, want), masked_positions(src, got)
        tp += len(w & g)
        fp += len(g - w)
        fn += len(w - g)
        exact += want == got
    n = len(inputs)
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "exact": exact / n if n else 0.0,
        "sentences": float(n),
    }
