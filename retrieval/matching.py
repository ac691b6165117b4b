"""Why a record matched, in words a mediator can check: the one algorithm the CLI and pages show.

``Why.matched_terms`` (``retrieval.search``) is the keyword run's evidence and feeds the
answer points; what a front end shows as 为什么出现 and marks in the text is ``Matched``,
computed here once per answer (``retrieval.asking``) for every record it names.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ingest.chinese import has_han
from retrieval import vocab
from retrieval.cite import find_citations, without_citations
from retrieval.tokenizer import JiebaTokenizer

MATCHED_WORDS = 6
"""Words shown per record (question words first, then the statute terms they stand for)."""

Span = tuple[int, int]


@dataclass(frozen=True)
class Matched:
    """Why a record matched, in words a mediator can check against the text.

    ``words``: words of the question found in the text (whole words: never 民法 inside
    人民法院, never 第 or 条); ``legal_words``: statute terms the question's everyday
    words stand for (男方 → 夫妻), found in the text.
    """

    words: tuple[str, ...] = ()
    legal_words: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.words + self.legal_words


def word_spans(text: str, terms: Sequence[str], word_starts: frozenset[int]) -> list[Span]:
    """Spans of ``terms`` in ``text`` that begin or end where a word does.

    ``word_starts`` are the offsets where the words of ``text`` begin (and its end), so
    民法 is found in 民法典 but not inside 人民法院 (人民法院 is one word).
    """
    spans: list[Span] = []
    for term in dict.fromkeys(t for t in terms if t):
        start = text.find(term)
        while start >= 0:
            end = start + len(term)
            if start in word_starts or end in word_starts:
                spans.append((start, end))
            start = text.find(term, start + 1)
    merged: list[Span] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


class WordMatcher:
    """The question's words (and the statute terms they stand for) found in record texts.

    Args:
        tokenizer: the knowledge base's keyword tokenizer (its dictionary knows the laws).
        law_names: the laws held, so a citation in the question is not matched as words.
    """

    def __init__(self, tokenizer: JiebaTokenizer, law_names: Collection[str]) -> None:
        self.tokenizer = tokenizer
        self.law_names = law_names
        self._starts: dict[str, frozenset[int]] = {}

    def question(self, question: str) -> tuple[str, list[str]]:
        """The question less its citations, and its words worth matching (CJK, two or more)."""
        plain = without_citations(question, find_citations(question, self.law_names))
        # search mode on the question: 不同意离婚 also offers 离婚
        return plain, [w for w in self.tokenizer(plain) if len(w) >= 2 and has_han(w)]

    def matched(self, question: str, text: str, limit: int = MATCHED_WORDS) -> Matched:
        """The question's words (and the statute terms they stand for) found in ``text``."""
        plain, asked = self.question(question)
        starts = self.word_starts(text)

        def found(word: str) -> bool:
            return bool(word_spans(text, [word], starts))

        words = tuple(dict.fromkeys(w for w in asked if found(w)))
        # a sub-word adds nothing when its whole word matched too (离婚 in 离婚诉讼)
        words = tuple(w for w in words if not any(w != o and w in o for o in words))
        legal = tuple(
            dict.fromkeys(
                w
                for w in vocab.expand(plain)
                if w not in plain and not any(w in o for o in words) and found(w)
            )
        )
        words = words[:limit]
        return Matched(words, legal[: max(0, limit - len(words))])

    def spans(self, text: str, terms: Sequence[str]) -> tuple[Span, ...]:
        """Where to mark ``terms`` in ``text``: whole words only (not 民法 in 人民法院)."""
        return tuple(word_spans(text, terms, self.word_starts(text))) if terms else ()

    def word_starts(self, text: str) -> frozenset[int]:
        found = self._starts.get(text)
        if found is None:
            starts = {0, len(text)}
            # jieba's plain cut (search mode would also yield 民法 inside 人民法院)
            for _word, start, end in self.tokenizer._splitter().tokenize(text, HMM=False):
                starts.update((start, end))
            found = frozenset(starts)
            if len(self._starts) > 20_000:  # texts of a few hundred results per session: bounded
                self._starts.clear()
            self._starts[text] = found
        return found
