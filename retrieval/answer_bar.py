"""The bar an answer point must clear: a clause shown as 答案要点 claims to answer the question.

A search hit may share a word with the question and still be about something else
(邻居 → 相邻关系 for a dog bite). A point is shown only when
1. its subject is the question's dispute: the dispute type of the article (its law, or
   its 民法典 chapter) is one of the question's, or a general part that answers it
   (侵权责任 for a road accident); and it matches more than a party: a clause whose only
   matched words are the statute words for 邻居 or 公司 (相邻, 用人单位) is held back;
2. it does not rest on a condition the question rules out ("父亲去世没留遗嘱" never gets
   "有遗嘱的，按照遗嘱继承"): a clause naming what the question says is absent
   (没有/没/无/未 + X) is about that X being there, unless it negates X itself
   (没有第一顺序继承人的 / 未订立书面劳动合同的 agree with the question);
3. and a governing interpretation goes first: an interpretation article that refines a
   general article (``retrieval.interpretations``) and answers the question replaces
   the general clause speaking of the same legal term (夫妻共同债务).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from ingest.cases.classify import KEYWORDS, LAW_TYPES, _law_type
from ingest.chinese import HAN_RUN
from ingest.records import Article, Citation
from retrieval.config import MIN_TYPE_SCORE, TYPE_SHARE

# Article types whose general rules answer questions of other types too.
ANSWERS_ALSO: dict[str, frozenset[str]] = {
    # 侵权责任 (1164-1207, 1229-1258) governs the harm in every kind of dispute
    "损害赔偿": frozenset(
        {"道路交通", "医疗纠纷", "邻里关系", "物业服务", "消费维权", "劳动劳务", "房屋宅基地"}
    ),
    # 合同编 governs leases, sales, services and loans alike
    "合同借贷": frozenset({"房屋宅基地", "消费维权", "物业服务", "劳动劳务", "土地承包"}),
    "邻里关系": frozenset({"物业服务", "房屋宅基地"}),
    "物业服务": frozenset({"邻里关系", "房屋宅基地"}),
    "房屋宅基地": frozenset({"邻里关系", "物业服务", "土地承包", "继承", "婚姻家庭"}),
    "继承": frozenset({"婚姻家庭"}),
    "婚姻家庭": frozenset({"继承"}),
    "土地承包": frozenset({"房屋宅基地", "继承"}),
}
# 民法典 parts named by an interpretation, and the dispute type each belongs to.
_PART_TYPES = {"婚姻家庭编": "婚姻家庭", "继承编": "继承", "侵权责任编": "损害赔偿"}

_NEGATION = frozenset({"没有", "没", "无", "未", "并未", "从未", "不曾", "尚未", "没能"})
# The verb between a negation and its object: 没(留)遗嘱, 没有(签)劳动合同, 未(办理)结婚登记.
_VERBS = frozenset(
    "留 留下 立 立下 写 写下 签 签订 订 订立 办 办理 领 领取 交 缴 缴纳 买 上 有 过 给 拿 拿到 "
    "开 开具 出具 做 搞 取得 登记 我 他 她 他们 我们 了 就 都 也 还 书面 正式 任何".split()
)
_STOP_OBJECTS = frozenset("办法 关系 问题 时间 什么 怎么 想到 钱 人".split())
_PUNCT = re.compile(r"[，。；！？、,.;!?\s]")
# A negation shortly before a word, in the same phrase: 未与劳动者订立书面(劳动合同).
_NEGATED_BEFORE = re.compile(r"(?:未|没有|没|无|不|非)[^，。；：、,;:]{0,9}$")


def party_terms(question: str) -> tuple[str, ...]:
    """Statute terms standing for the parties the question names (邻居 → 相邻 …)."""
    from retrieval import vocab

    return tuple(
        dict.fromkeys(t for w in vocab.PARTY_WORDS if w in question for t in vocab.expand(w))
    )


def only_parties(
    terms: Iterable[str], question: str, parties: Iterable[str], others: Iterable[str]
) -> bool:
    """Whether every matched term is a party's statute term (or a piece of one: 不动 of
    不动产权利人) that neither the question itself nor another of its words supplies."""
    parties, others = tuple(parties), tuple(others)
    found = tuple(terms)
    return bool(found) and all(
        t not in question
        and any(t in p for p in parties)
        and not any(t in o for o in others if o not in parties)
        for t in found
    )


def question_types(question: str) -> frozenset[str]:
    """The dispute types the question's words point to (empty when unknown).

    The keyword evidence of ``ingest.cases.classify`` on the question alone: the laws of
    the top articles are left out, since a wrong hit (相邻关系 for a dog bite) must not
    vouch for itself.
    """
    scores: Counter[str] = Counter()
    for t, words in KEYWORDS.items():
        for w, weight in words:
            n = question.count(w)
            if n:
                scores[t] += weight * min(n, 3) ** 0.5
    scores.pop("其他", None)
    if not scores:
        return frozenset()
    best = max(scores.values())
    if best < MIN_TYPE_SCORE:
        return frozenset()
    return frozenset(t for t, s in scores.items() if s >= TYPE_SHARE * best)


def article_type(article: Article) -> str | None:
    """The dispute type an article's law (or 民法典 chapter) belongs to; None when general."""
    found = _law_type(Citation(article.citation, article.law, article.key))
    if found is not None and found != "其他":
        return found
    if article.law in LAW_TYPES:
        return None  # a law of type 其他 (刑法, 治安管理处罚法): no type to agree with
    for part, t in _PART_TYPES.items():
        if part in article.law:
            return t
    return None


def subject_agrees(types: frozenset[str], article: Article) -> bool:
    """Whether the article's subject can answer a question of ``types`` (True when either
    is unknown)."""
    if not types:
        return True
    own = article_type(article)
    if own is None:
        return True
    return own in types or bool(ANSWERS_ALSO.get(own, frozenset()) & types)


@lru_cache(maxsize=4096)
def ruled_out(question: str) -> tuple[str, ...]:
    """What the question says is absent: 没留遗嘱 → 遗嘱, 没有签劳动合同 → 劳动合同.

    A negation (没有/没/无/未 …, or a word 没X/未X whose X is a verb: 没留, 没领) is
    followed, within its phrase, by optional verbs and then its object; words such as
    未成年人 or 无效 are one word in the cut and are not negations.
    """
    import jieba

    words = [w for w in jieba.lcut(question) if w.strip()]
    found: list[str] = []
    for i, w in enumerate(words):
        negation = w in _NEGATION or (
            len(w) == 2 and w[0] in "没未" and w[1] in "留立写签订办领交缴买上给拿开做"
        )
        if not negation:
            continue
        for nxt in words[i + 1 : i + 5]:
            if _PUNCT.fullmatch(nxt[0]):
                break
            if nxt in _VERBS:
                continue
            obj = nxt[1:] if nxt[0] in "立写签留领办交" and len(nxt) >= 3 else nxt
            if len(obj) >= 2 and obj not in _STOP_OBJECTS and obj not in found:
                found.append(obj)
            break
    return tuple(found)


def assumes(clause: str, absent: Iterable[str]) -> bool:
    """Whether ``clause`` names something the question says is absent without negating it.

    Not only its condition (有遗嘱的，…): a clause on making a will (自然人可以立遗嘱…)
    does not answer a question about an estate without one either. A clause that
    negates it (没有遗嘱的 / 未订立书面劳动合同的) agrees with the question and is kept.
    """
    for x in absent:
        at = clause.find(x)
        while at >= 0:
            if not _NEGATED_BEFORE.search(clause[max(0, at - 10) : at]):
                return True
            at = clause.find(x, at + 1)
    return False


_BOILERPLATE = frozenset(
    "人民法院 不予支持 予以支持 应当 当事人 规定 本法 民法典 一方 双方 对方 主张".split()
)


def supersedes(interpretation_clause: str, general_clause: str, min_chars: int = 4) -> bool:
    """Whether an interpretation's clause speaks of the same legal term as a general
    clause: a shared run of ``min_chars`` or more characters, boilerplate aside
    (夫妻共同债务 in 解释（一）第三十四条 and 民法典第一千零八十九条)."""
    a, b = _plain(interpretation_clause), _plain(general_clause)
    for i in range(len(a) - min_chars + 1):
        run = a[i : i + min_chars]
        if HAN_RUN.fullmatch(run) and run in b:
            return True
    return False


def _plain(text: str) -> str:
    for word in _BOILERPLATE:
        text = text.replace(word, "|")
    return text
