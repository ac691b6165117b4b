"""The jieba word splitter used for BM25: a parameter, saved with the index."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.chinese import HAN

log = logging.getLogger(__name__)

LEGAL_DICT = Path(__file__).with_name("legal_dict.txt")

# Function words and question fillers that carry no legal meaning in a lay question.
STOPWORDS: frozenset[str] = frozenset(
    """的 了 和 与 或 及 以及 是 在 我 你 他 她 它 我们 他们 她们 有 没有 也 都 就 还 又 被 把 对 向 从
    给 让 吗 呢 吧 啊 呀 么 嘛 哦 么 什么 怎么 怎么办 怎样 如何 为什么 请问 问 请 一下 可以 能 能否 是否 会
    要 需要 应该 应当 这 那 这个 那个 这种 哪些 一个 个 该 其 之 而 但 但是 如果 因为 所以 已经 现在
    后 时 中 上 下 等 等等 情况 问题 咨询 律师 谢谢 您好 你好 么样 多少 几 年 月 日 号""".split()
)

_TOKEN_OK = re.compile(rf"[\w{HAN}]")


def _load_words(path: Path) -> list[str]:
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line.split()[0])
    return words


@dataclass
class JiebaTokenizer:
    """jieba in search mode with a legal user dictionary and stopwords.

    Args:
        user_words: words kept whole (law names, 宅基地, 彩礼, 工伤 …); default is
            ``legal_dict.txt`` shipped with the package.
        search_mode: ``cut_for_search`` also yields the sub-words of long words,
            so 劳动合同法 matches 劳动合同 too.
        hmm: jieba's HMM for unknown words (off: deterministic and faster).
    """

    user_words: tuple[str, ...] = field(default_factory=lambda: tuple(_load_words(LEGAL_DICT)))
    search_mode: bool = True
    hmm: bool = False
    stopwords: frozenset[str] = STOPWORDS
    _jieba: Any = field(default=None, init=False, repr=False)

    def _splitter(self) -> Any:
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            t = jieba.Tokenizer()
            t.initialize()
            for w in self.user_words:
                t.add_word(w, freq=max(2000, 200 * len(w)))
            self._jieba = t
        return self._jieba

    def words(self, text: str) -> list[str]:
        """Words of ``text`` with stopwords and punctuation removed (duplicates kept)."""
        t = self._splitter()
        cut = (
            t.cut_for_search(text, HMM=self.hmm) if self.search_mode else t.cut(text, HMM=self.hmm)
        )
        out = []
        for w in cut:
            w = w.strip().lower()
            if w and w not in self.stopwords and _TOKEN_OK.search(w):
                out.append(w)
        return out

    def __call__(self, text: str) -> list[str]:
        return self.words(text)

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.words(t) for t in texts]

    @property
    def digest(self) -> str:
        h = hashlib.sha256(json.dumps(self.settings(with_words=True), ensure_ascii=False).encode())
        return h.hexdigest()[:16]

    def settings(self, with_words: bool = False) -> dict[str, Any]:
        """What the manifest records; the word list itself is saved beside it."""
        d: dict[str, Any] = {
            "kind": "jieba",
            "jieba": _jieba_version(),
            "search_mode": self.search_mode,
            "hmm": self.hmm,
            "user_words": len(self.user_words),
            "stopwords": len(self.stopwords),
        }
        if with_words:
            d["words"] = sorted(self.user_words)
            d["stop"] = sorted(self.stopwords)
        return d

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "userdict.txt").write_text("\n".join(self.user_words) + "\n", encoding="utf-8")
        (folder / "stopwords.txt").write_text(
            "\n".join(sorted(self.stopwords)) + "\n", encoding="utf-8"
        )
        (folder / "tokenizer.json").write_text(
            json.dumps(self.settings(), ensure_ascii=False, indent=2)
        )

    @classmethod
    def load(cls, folder: Path) -> JiebaTokenizer:
        cfg = json.loads((folder / "tokenizer.json").read_text())
        return cls(
            user_words=tuple(_load_words(folder / "userdict.txt")),
            search_mode=cfg["search_mode"],
            hmm=cfg["hmm"],
            stopwords=frozenset(_load_words(folder / "stopwords.txt")),
        )

    def with_words(self, extra: Sequence[str]) -> JiebaTokenizer:
        """A copy that also keeps ``extra`` words whole (e.g. the knowledge base's law names)."""
        words = tuple(dict.fromkeys((*self.user_words, *extra)))
        return JiebaTokenizer(words, self.search_mode, self.hmm, self.stopwords)


def _jieba_version() -> str:
    try:
        import jieba

        return str(jieba.__version__)
    except (ImportError, AttributeError):
        return "unknown"
