"""Decode a text file people made: UTF-8, UTF-16, GB18030/GBK or Big5, and refuse anything else clearly."""

from __future__ import annotations

from collections.abc import Callable

from ingest.chinese import count_han

MIXED = "UTF-8（夹杂其他编码）"
SUPPORTED = "UTF-8、UTF-16、GB18030/GBK、Big5"

# Share of non-ASCII characters that must look like ordinary Chinese text for a
# legacy encoding to be accepted. GB18030 and Big5 decode almost any byte string,
# so "it decoded" proves nothing: Big5 read as GB18030 scores about 0.35, Shift-JIS
# about 0.0, and real text 0.97 or more (measured on the statutes and committee
# samples).
_PLAUSIBLE = 0.8


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode the bytes of a text file and name the encoding used.

    Tried in order: a byte-order mark (UTF-8, UTF-16 LE/BE), UTF-8, UTF-8 with a
    few stray bytes (``MIXED``, the strays become U+FFFD), UTF-16 without a mark
    (NUL in every other byte), GB18030 (a superset of GBK and GB2312), Big5.
    A legacy encoding is accepted only when the text it yields reads like Chinese.

    Returns:
        (text, encoding): ``UTF-8``, ``UTF-8-BOM``, ``UTF-16LE``, ``UTF-16BE``,
        ``GB18030``, ``Big5`` or ``MIXED``.

    Raises:
        UnicodeDecodeError: none of these fits; its ``reason`` says what the bytes
            may be instead (e.g. Shift-JIS) when that can be told.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8-BOM"
        except UnicodeDecodeError:
            data = data[3:]
    for bom, codec, name in _UTF16_BOMS:
        if data.startswith(bom):
            try:
                return data[2:].decode(codec), name
            except UnicodeDecodeError:
                break
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        first_error = exc
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    if _cjk(lenient) >= 3 * bad:
        return lenient, MIXED
    for codec, name, score in (("gb18030", "GB18030", _gb_score), ("cp950", "Big5", _big5_score)):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if score(text) >= _PLAUSIBLE:
            return text, name
    raise UnicodeDecodeError(
        first_error.encoding,
        first_error.object,
        first_error.start,
        first_error.end,
        _guess_foreign(data),
    )


_UTF16_BOMS = ((b"\xff\xfe", "utf-16-le", "UTF-16LE"), (b"\xfe\xff", "utf-16-be", "UTF-16BE"))


def is_utf16(data: bytes) -> bool:
    """UTF-16 text (with a byte-order mark, or ASCII-heavy without one): its NUL bytes are not binary."""
    return data.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(data) is not None


def _cjk(text: str) -> int:
    return count_han(text)


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a byte-order mark, recognised by ASCII characters' zero bytes."""
    head = data[:4096]
    if len(head) < 4 or len(data) % 2:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    for zeros, codec, name in ((odd, "utf-16-le", "UTF-16LE"), (even, "utf-16-be", "UTF-16BE")):
        if zeros >= len(head) // 8 and min(even, odd) == 0:
            try:
                return data.decode(codec), name
            except UnicodeDecodeError:
                return None
    return None


def _gb_score(text: str) -> float:
    """Share of non-ASCII characters that are GB2312 punctuation or hanzi (rows A1–A3, B0–F7)."""
    return _score(text, "gb2312", lambda lead: lead >= 0xB0 or 0xA1 <= lead <= 0xA3)


def _big5_score(text: str) -> float:
    """Share of non-ASCII characters that are Big5 punctuation or frequent hanzi (A1–A3, A4–C6)."""
    return _score(text, "big5", lambda lead: 0xA1 <= lead <= 0xC6)


def _score(text: str, codec: str, good_lead: Callable[[int], bool]) -> float:
    total = good = 0
    for ch in text:
        if ch < "\x80":
            continue
        total += 1
        try:
            encoded = ch.encode(codec)
        except UnicodeEncodeError:
            continue
        if good_lead(encoded[0]):
            good += 1
    if total < 4:
        # Two or three odd bytes in an ASCII file: no evidence either way, and
        # GB18030 has always been the fallback here.
        return 1.0 if codec == "gb2312" else 0.0
    return good / total


def _guess_foreign(data: bytes) -> str:
    """What the bytes probably are, for the refusal message."""
    for codec, guess, lo, hi in (
        ("shift_jis", "疑似日文 Shift-JIS 编码", "\u3040", "\u30ff"),
        ("euc_kr", "疑似韩文 EUC-KR 编码", "\uac00", "\ud7a3"),
    ):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if sum(1 for ch in text if lo <= ch <= hi) >= 3:
            return guess
    return "不是支持的编码"
