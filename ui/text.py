"""Text for Streamlit sinks: data and user text made inert, marks, short forms, dated statuses.

No Streamlit calls and no imports from the pages, so any page module (and ``ui.views``)
can use it without an import circle.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

# ---- text from data or users, made inert ---------------------------------------------
#
# Streamlit renders Markdown (with images, $math$, :directives: and GitHub autolinks) in
# st.markdown, captions, alerts, toasts and the labels of buttons, expanders, tabs and
# page links; st.markdown(unsafe_allow_html=True) renders raw HTML too. Every text that
# comes from a user or from data goes through ``md`` (Markdown sinks) or ``esc`` (HTML
# sinks). Selectbox and multiselect options, st.text and st.code show plain text.

_MD = {ord(ch): "\\" + ch for ch in string.punctuation}
_HTML = {ord(ch): f"&#{ord(ch)};" for ch in string.punctuation}
# GitHub autolinks are found in the parsed text, after escapes and entities are decoded:
# an invisible word joiner after the scheme, "www" or "@" keeps a URL or e-mail address
# from becoming a live link (or a request for an image).
_WJ = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(?=:/)|(?<=www)(?=\.)|(?<=@)")


def _defang(text: str) -> str:
    return _AUTOLINK.sub(_WJ, text) if ("/" in text or "www" in text or "@" in text) else text


def md(text: str) -> str:
    """One line of text made inert for a Markdown sink (label, caption, alert, toast)."""
    return _defang(" ".join(str(text).split())).translate(_MD)


def esc(text: str) -> str:
    """Text made inert for ``st.markdown(..., unsafe_allow_html=True)``; newlines → <br>."""
    return _defang(str(text)).translate(_HTML).replace("\n", "<br>")


def highlight(
    text: str, spans: Sequence[tuple[int, int]] = (), underline: tuple[int, int] | None = None
) -> str:
    """Escaped HTML of ``text`` with ``spans`` marked and one span underlined."""
    flags = [0] * len(text)
    for a, b in spans:
        for i in range(max(0, a), min(len(text), b)):
            flags[i] |= 1
    if underline:
        for i in range(max(0, underline[0]), min(len(text), underline[1])):
            flags[i] |= 2
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and flags[j] == flags[i]:
            j += 1
        piece = esc(text[i:j])
        if flags[i] & 1:
            piece = f'<mark style="background:#ffe08a;padding:0 1px">{piece}</mark>'
        if flags[i] & 2:
            piece = f'<span style="border-bottom:2px solid #3b7dd8">{piece}</span>'
        out.append(piece)
        i = j
    return "".join(out)


def brief(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "……"


def dated_status(status: str, stale_as_of: str) -> str:
    """A validity status as shown: ``现行有效（数据截至 2025-01-15）`` once the data is old.

    The status is what the data said on its date; once that date is over a year back, a
    law may have been revised or repealed since, so the status names the date it rests on.
    """
    return f"{status}（数据截至 {stale_as_of}）" if stale_as_of and status else status
