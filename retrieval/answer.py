"""Extractive answer panel: the few clauses of the top articles that best match a question."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from ingest.chinese import HAN_RUN, has_han
from ingest.records import Article, Case, Citation
from retrieval import amounts, answer_bar, vocab
from retrieval.cite import without_citations
from retrieval.config import DEFAULT_ANSWER, LIST_CHARS, AnswerConfig
from retrieval.hits import ArticleHit, CaseHit
from retrieval.interpretations import is_interpretation

# Clause boundaries inside an article: full stops, semicolons, question marks and 款 breaks.
_CLAUSE_END = re.compile(r"[。；;！？!?\n]")
PROVISO = "但"
"""A clause opening with this (但是, 但) after a semicolon qualifies the one before it."""
# A 项 (list item) line: （一）… or 一、…; its meaning hangs on the 款 head before it.
_ITEM = re.compile(r"[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、")
_LEAD_END = "：:"
_SENTENCE_END = "。！？!?"
# Bigrams that carry no legal meaning in a question; they would match nearly every clause.
STOP_BIGRAMS: frozenset[str] = frozenset(
    "可以 怎么 么办 如何 什么 是否 应该 应当 需要 能否 能不 不能 的话 一下 请问 我们 他们 "
    "自己 这个 那个 没有 有没 还是 或者 以及 这种 情况 问题 吗？ 了吗 怎样 多少 哪些 为什 "
    "么样 处理 办法".split()
)


NO_POINT = (
    "检索到的条文都不能直接回答这个问题，因此不列答案要点。"
    "下面“适用法条”中的条文供参考，请结合案情逐条核对。"
)
"""What the panel says when articles were found but none cleared the bar."""


@dataclass(frozen=True)
class Quote:
    """A verbatim clause of an article: ``article.text[start:end] == text``."""

    article_id: str
    citation: str
    text: str
    start: int
    end: int
    score: float
    terms: tuple[str, ...] = ()
    lead: str = ""
    """For a quoted 项: the sentence of the 款 head it depends on, verbatim
    (``article.text[lead_start:lead_end]``), e.g. "有下列情形之一，调解无效的，应当准予离婚：".
    Shown before the item with an ellipsis when other items lie between them."""
    lead_start: int = 0
    lead_end: int = 0

    @property
    def adjacent(self) -> bool:
        """The lead-in is followed directly by the quoted item (no other items between)."""
        return bool(self.lead) and self.lead_end <= self.start and self.lead_end + 1 >= self.start


@dataclass(frozen=True)
class Outcome:
    """One line from a similar case's outcome; ``text`` is a substring of ``Case.outcome``.

    ``truncated`` is set when the line was cut mid-sentence (show an ellipsis).
    """

    case_id: str
    title: str
    kind: str
    text: str
    truncated: bool = False


@dataclass(frozen=True)
class Answer:
    """The answer panel: verbatim clauses, best first, and case outcome lines.

    ``withheld`` counts clauses that matched the question's words but not the bar (another
    dispute's article, a condition the question rules out): when no quote is shown and
    ``withheld`` > 0, the panel says no article answers the question directly.
    """

    quotes: tuple[Quote, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    withheld: int = 0

    @property
    def empty(self) -> bool:
        return not self.quotes and not self.outcomes


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of ``text``, each ending with its punctuation, trimmed.

    A proviso stays with the clause it qualifies: "…应当承担侵权责任；但是，能够证明…的，可以
    不承担或者减轻责任。" is one clause, since the rule quoted without its exception says
    something the law does not.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _CLAUSE_END.finditer(text):
        end = m.end() if m.group() != "\n" else m.start()
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(text)))
    out: list[tuple[int, int]] = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if not (b > a and has_han(text[a:b])):
            continue
        if out and text[a:b].startswith(PROVISO) and text[out[-1][1] - 1] in "；;":
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def question_terms(question: str, extra: Iterable[str] = ()) -> list[str]:
    """Terms to look for: the question's CJK bigrams (minus stop bigrams) and ``extra`` terms."""
    terms: list[str] = []
    for run in HAN_RUN.findall(question):
        for i in range(len(run) - 1):
            bigram = run[i : i + 2]
            if bigram not in STOP_BIGRAMS and bigram not in terms:
                terms.append(bigram)
    for term in extra:
        term = "".join(ch for ch in term if ch.isalnum())
        if len(term) >= 2 and term not in terms and term not in STOP_BIGRAMS:
            terms.append(term)
    return terms


def term_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Merged, sorted spans of every occurrence of ``terms`` in ``text``."""
    spans: list[tuple[int, int]] = []
    for term in {t for t in terms if t}:
        start = text.find(term)
        while start >= 0:
            spans.append((start, start + len(term)))
            start = text.find(term, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _score_clause(
    clause: str, terms: Sequence[str], clause_length: float
) -> tuple[float, tuple[str, ...]]:
    found = tuple(t for t in terms if t in clause)
    if not found:
        return 0.0, ()
    # Longer matched terms say more; long clauses are mildly penalised so a
    # focused sentence beats a list that happens to mention everything.
    weight = sum(len(t) - 1 for t in found)
    return weight / (1.0 + len(clause) / clause_length), found


def _line_span(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _is_item(text: str, line_start: int) -> bool:
    return _ITEM.match(text, line_start) is not None


def _head(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The lead-in sentence of the line ``text[start:end]`` when it is a 款 head (ends in ：)."""
    head = text[start:end].rstrip()
    if not head or head[-1] not in _LEAD_END:
        return None
    cut = max((head.rfind(ch) for ch in _SENTENCE_END), default=-1)
    a = start + cut + 1
    while a < start + len(head) and text[a].isspace():
        a += 1
    return a, start + len(head)


def lead_in(text: str, pos: int) -> tuple[int, int] | None:
    """The 款 head sentence ending in ：that the 项 at ``pos`` belongs to, or None.

    Walks back over the item lines before it; the first other line must end with a
    colon. The lead-in is that line's last sentence (after its last 。), so a head
    such as "…处一万元以上十万元以下的罚款；拒不改正的，可以责令暂停施工：" is kept whole.
    """
    start, _ = _line_span(text, pos)
    if not _is_item(text, start):
        return None
    while start > 0:
        start, end = _line_span(text, start - 1)
        if not _is_item(text, start):
            return _head(text, start, end)
    return None


def _list_end(text: str, line_end: int) -> int:
    """End of the run of item lines that follows a 款 head ending at ``line_end``."""
    end = line_end
    while end < len(text):
        a, b = _line_span(text, end + 1)
        if not _is_item(text, a):
            break
        end = b
    return end


def _candidates(text: str) -> list[tuple[int, int, tuple[int, int] | None]]:
    """Quotable spans of an article: (start, end, lead-in span or None).

    A clause inside a 项 is quoted as the whole item line with its lead-in; a clause of
    a 款 head's lead-in sentence is quoted with the whole list when short, else not at
    all (on its own it ends mid-sentence); every other clause as it is.
    """
    out: list[tuple[int, int, tuple[int, int] | None]] = []
    seen: set[tuple[int, int]] = set()
    for a, b in clause_spans(text):
        line_a, line_b = _line_span(text, a)
        lead: tuple[int, int] | None = None
        head = (
            _head(text, line_a, line_b)
            if line_b < len(text) and _is_item(text, line_b + 1)
            else None
        )
        if _is_item(text, line_a):
            span = (line_a, line_b)
            lead = lead_in(text, line_a)
        elif head is not None and b > head[0]:
            end = _list_end(text, line_b)
            if end - head[0] > LIST_CHARS:
                continue
            span = (head[0], end)
        else:
            span = (a, b)
        if span not in seen:
            seen.add(span)
            out.append((*span, lead))
    return out


def _amounts_first(found: list[Quote], boost: float, rule_first: float) -> list[Quote]:
    """An article's clauses for a question that asks how much, best first: those stating an
    amount raised by ``boost``, and among its sentences stating one, each later sentence
    divided by ``1 + rule_first`` per place. A statute states the general amount first
    and its special cases after (劳动合同法第四十七条: 每满一年支付一个月工资, then 不满六个月的
    半个月, then the cap for the highly paid): quoted alone, a special case reads as the
    answer. Items (项) are parallel and keep their scores. The first quote keeps the
    article's best score, so the order of the articles' points does not change."""
    if not found:
        return found
    states = [amounts.amount_statements(q.lead + q.text) > 0 for q in found]
    weighted = [
        replace(q, score=q.score * (1.0 + boost)) if s else q
        for q, s in zip(found, states, strict=True)
    ]
    best = max(q.score for q in weighted)
    sentences = sorted(
        (i for i, q in enumerate(weighted) if states[i] and not q.lead),
        key=lambda i: weighted[i].start,
    )
    for place, i in enumerate(sentences):
        weighted[i] = replace(weighted[i], score=weighted[i].score / (1.0 + rule_first * place))
    ordered = sorted(weighted, key=lambda q: (-q.score, q.start))
    return [replace(ordered[0], score=best), *ordered[1:]]


def best_clauses(
    question: str,
    article: Article,
    *,
    extra_terms: Iterable[str] = (),
    limit: int = 1,
    clause_length: float = DEFAULT_ANSWER.clause_length,
) -> list[Quote]:
    """The ``limit`` best-matching clauses of one article (best first, score > 0 only).

    A quoted 项 carries its lead-in (``Quote.lead``): the item must match the question
    itself, and the terms of its lead-in count towards its score.
    """
    terms = question_terms(question, extra_terms)
    text = article.text
    scored = []
    for a, b, lead in _candidates(text):
        score, found = _score_clause(text[a:b], terms, clause_length)
        if score <= 0:
            continue
        quote = Quote(article.id, article.citation, text[a:b], a, b, score, found)
        if lead is not None:
            la, lb = lead
            both, found_both = _score_clause(text[la:lb] + text[a:b], terms, clause_length)
            # the penalty for length stays the item's own: a long head must not sink it
            both *= (1.0 + (lb - la + b - a) / clause_length) / (1.0 + (b - a) / clause_length)
            quote = replace(
                quote,
                score=max(score, both),
                terms=found_both,
                lead=text[la:lb],
                lead_start=la,
                lead_end=lb,
            )
        scored.append(quote)
    scored.sort(key=lambda q: (-q.score, q.start))
    return scored[:limit]


def outcome_line(case: Case, max_chars: int = DEFAULT_ANSWER.outcome_chars) -> Outcome | None:
    """The first sentence of a case's outcome, cut to one line; None when it has none."""
    text = case.outcome.strip()
    if not text:
        return None
    offset = case.outcome.find(text)
    end = len(text)
    m = re.search(r"[。！!\n]", text)
    if m:
        end = m.end() if m.group() != "\n" else m.start()
    truncated = False  # ending at a full stop is a complete line, not a cut
    if end > max_chars:
        end, truncated = max_chars, True
    line = case.outcome[offset : offset + end].strip()
    return Outcome(case.id, case.title, case.kind, line, truncated)


def _repeats(a: Quote, b: Quote) -> bool:
    """Same sentence (in two laws), or overlapping text of one article (an item and its list)."""
    if a.text == b.text:
        return True
    return a.article_id == b.article_id and a.start < b.end and b.start < a.end


def extract_answer(
    question: str,
    articles: Sequence[ArticleHit],
    cases: Sequence[CaseHit] = (),
    *,
    cited: Sequence[Citation] = (),
    config: AnswerConfig = DEFAULT_ANSWER,
    related: Callable[[str], Sequence[Article]] | None = None,
    term_share: Callable[[str], float] | None = None,
) -> Answer:
    """Pick 2-3 verbatim clauses from the top articles and one-line outcomes of the top cases.

    Each article's best clause competes with the others', weighted by the article's
    rank so the retriever's order still counts; one clause per article first, then
    second clauses if room is left. Nothing is paraphrased: every ``Quote.text`` is
    ``article.text[start:end]``.

    With ``config.bar`` (the default) a clause must clear the bar of
    ``retrieval.answer_bar``: its article's subject is the question's dispute and it rests
    on no condition the question rules out. A governing interpretation wins over the
    general article it refines: an interpretation article linked to a top article
    (``related``) whose clause matches a rare word of the question that the general
    article never uses (赌博 beside 夫妻共同债务) is shown first, in that article's place.
    Nothing shown is better than a wrong point (``Answer.withheld`` counts the clauses
    held back).

    Args:
        question: the user's question.
        articles: ranked article hits.
        cases: ranked case hits.
        cited: citations found in the question; their words are not matched, and a
            question that is only a citation gets no quotes (the article itself is shown).
        config: how many points, how clauses are weighed, whether the bar applies.
        related: interpretation articles linked to an article id (by number or subject,
            ``Catalogue.related_interpretations``).
        term_share: the share of the knowledge base's articles using a term
            (``Catalogue.term_share``); without it no interpretation takes a place.
    """
    if cited:
        question = without_citations(question, cited)
        if not question_terms(question):
            articles = ()
    bar = config.bar
    types = answer_bar.question_types(question) if bar else frozenset()
    absent = answer_bar.ruled_out(question) if bar else ()
    expansions = tuple(vocab.expand(question)) if bar else ()
    firsts: list[Quote] = []
    seconds: list[Quote] = []
    withheld = 0

    parties = answer_bar.party_terms(question) if bar else ()
    how_much = config.amount_boost > 0 and amounts.asks_amount(question)

    def clears(quote: Quote) -> bool:
        if answer_bar.only_parties(quote.terms, question, parties, expansions):
            return False
        return not answer_bar.assumes(quote.lead + quote.text, absent)

    top = list(articles)[: config.top_articles]
    for hit in top:
        article = hit.record
        prior = 1.0 / (1.0 + config.rank_decay * (hit.rank - 1))
        found = best_clauses(
            question,
            article,
            extra_terms=hit.why.matched_terms + expansions,
            limit=4 if bar else 2,
            clause_length=config.clause_length,
        )
        if bar:
            kept = [q for q in found if clears(q)]
            if found and not answer_bar.subject_agrees(types, article):
                kept = []
            withheld += len(found[:2]) - len(kept[:2])
            found = kept
        if how_much:  # "经济补偿是多少": the clause that states the amount
            found = _amounts_first(found, config.amount_boost, config.rule_first)
        weighted = [replace(q, score=q.score * prior) for q in found]
        firsts.extend(weighted[:1])
        seconds.extend(weighted[1:2])
    governing: dict[str, Quote] = {}  # general article id → the interpretation clause ruling it
    if bar and related is not None and term_share is not None:
        candidates = {q.article_id for q in firsts + seconds}
        for hit in top:
            if hit.record.id not in candidates or is_interpretation(hit.record):
                continue
            best: Quote | None = None
            for interp in related(hit.record.id):
                if not answer_bar.subject_agrees(types, interp):
                    continue
                for q in best_clauses(
                    question,
                    interp,
                    extra_terms=hit.why.matched_terms + expansions,
                    limit=3,
                    clause_length=config.clause_length,
                ):
                    # whole words only (a vocabulary term, a word of the keyword
                    # query), never a bigram straddling two words (婚时 of 离婚时)
                    novel = [
                        t
                        for t in q.terms
                        if (t in expansions or t in hit.why.matched_terms)
                        and t not in hit.record.text
                        and term_share(t) <= config.rare_share
                    ]
                    if novel and clears(q) and (best is None or q.score > best.score):
                        best = q
            if best is not None:
                governing[hit.record.id] = best
    firsts.sort(key=lambda q: -q.score)
    seconds.sort(key=lambda q: -q.score)
    # governing interpretations first, each in place of the general article it refines;
    # a general clause speaking of the same term (夫妻共同债务) no longer stands alone
    ruling: list[Quote] = []
    for rule in sorted(governing.values(), key=lambda q: -q.score):
        if len(ruling) < config.max_quotes and all(not _repeats(rule, o) for o in ruling):
            ruling.append(rule)
    quotes: list[Quote] = []
    for q in firsts + seconds:
        if len(ruling) + len(quotes) >= config.max_quotes:
            break
        if q.article_id in governing or any(answer_bar.supersedes(r.text, q.text) for r in ruling):
            continue
        # The same sentence in two laws (民法典 and 妇女权益保障法 often agree) is quoted once.
        if all(not _repeats(q, other) for other in ruling + quotes):
            quotes.append(q)
    quotes = ruling + quotes
    if not quotes and articles and not bar:
        # Nothing matched word for word (a purely semantic hit): quote the top article's first clause.
        first = articles[0].record
        spans = _candidates(first.text)
        if spans:
            a, b, lead = spans[0]
            quotes = [Quote(first.id, first.citation, first.text[a:b], a, b, 0.0)]
            if lead is not None:
                quotes = [
                    replace(
                        quotes[0],
                        lead=first.text[lead[0] : lead[1]],
                        lead_start=lead[0],
                        lead_end=lead[1],
                    )
                ]
    if not bar:
        quotes.sort(key=lambda q: -q.score)
    outcomes: list[Outcome] = []
    for case_hit in cases:
        if len(outcomes) >= config.max_outcomes:
            break
        line = outcome_line(case_hit.record, config.outcome_chars)
        if line:
            outcomes.append(line)
    return Answer(tuple(quotes), tuple(outcomes), withheld)
