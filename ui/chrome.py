"""Streamlit's own screen furniture made compact and Chinese: page CSS and the widget words.

Streamlit draws some words itself, in English, with no option to change them: the file
uploader's "Upload" button and "20MB per file" line, "Press Enter to apply" under a text
box, "view more" on a long message. ``WORDS`` maps each to Chinese; a small script
replaces those texts (and the same words in tooltips) whenever Streamlit draws them.
It matches whole texts, not page structure, so a Streamlit upgrade that renames a
string leaves that string in English rather than breaking the page; the browser test
(tests/test_browser.py) checks the uploader and the question box show no English.
"""

from __future__ import annotations

import json

import streamlit as st

WORDS: dict[str, str] = {
    "Upload": "选择文件",
    "Add files": "添加文件",
    "Browse files": "选择文件",
    "Drag and drop files here": "把文件拖到这里",
    "Drag and drop a file here": "把文件拖到这里",
    "Press Enter to apply": "按回车键确认",
    "Press Enter to submit form": "按回车键提交",
    "Press ⌘+Enter to apply": "按 Ctrl+回车键确认",
    "Press Ctrl+Enter to apply": "按 Ctrl+回车键确认",
    "view more": "展开",
    "View more": "展开",
    "view less": "收起",
    "View less": "收起",
    "No results": "没有匹配的选项",
    "No options to select": "没有可选项",
    "Clear all": "全部清除",
    "Remove": "移除",
    "Close": "关闭",
    "Copy to clipboard": "复制",
    "Copied": "已复制",
    "Connection error": "连接中断",
    "Is Streamlit still running? If you accidentally stopped Streamlit, just restart it in your terminal:": (
        "与枫桥的连接中断了。请稍候自动重连；如一直如此，请知识库管理员重新启动枫桥。"
    ),
    "Please wait...": "请稍候……",
    "Running...": "正在处理……",
    "Stop": "停止",
    "Skip to main content": "跳到正文",
    "Collapse sidebar": "收起侧栏",
    "Expand sidebar": "展开侧栏",
    "App pages": "页面",
    "Link to heading": "本节链接",
    "Main menu": "菜单",
    "Increment": "加一",
    "Decrement": "减一",
    "Open": "展开",
    "Clear value": "清除",
}

_SCRIPT = r"""
<script>
(() => {
  const doc = document;
  if (doc.defaultView.__fengqiaoWords) return;
  doc.defaultView.__fengqiaoWords = true;
  const words = new Map(Object.entries(%(words)s));
  // texts that carry a number or a list
  const patterns = [
    [/^(\d+(?:\.\d+)?)\s?([KMG]B) per file(?: • (.*))?$/,
     (m) => `每个文件不超过 ${m[1]} ${m[2]}` + (m[3] ? `，格式：${m[3]}` : "")],
    [/^•\s*(.+)$/, (m) => ` · 格式：${m[1]}`],
    [/^(.*) files are not allowed\.$/, (m) => `不支持这种文件类型（${m[1]}）`],
    [/^File must be (.*) or smaller\.$/, (m) => `文件太大：不能超过 ${m[1]}`],
  ];
  const fixText = (value) => {
    const text = value.trim();
    if (!text) return null;
    if (words.has(text)) return value.replace(text, words.get(text));
    for (const [re, to] of patterns) {
      const m = text.match(re);
      if (m) return to(m);
    }
    return null;
  };
  // Texts from users and data (Markdown, code, tables, chosen options) are never touched,
  // except inside the file uploader, whose words are all Streamlit's.
  const DATA = ['[data-testid="stMarkdownContainer"]', '[data-testid="stCode"]',
    '[data-testid="stText"]', '[data-testid="stTable"]', '[data-testid="stSelectbox"]',
    '[data-testid="stMultiSelect"]'].join(",");
  const isData = (node) => {
    const el = node.nodeType === 3 ? node.parentElement : node;
    return !!el && !!el.closest(DATA) && !el.closest('[data-testid="stFileUploader"]');
  };
  const fixOne = (node) => {
    if (isData(node)) return;
    if (node.nodeType === 3) {
      const fixed = fixText(node.nodeValue);
      if (fixed !== null && fixed !== node.nodeValue) node.nodeValue = fixed;
      return;
    }
    for (const attr of ["aria-label", "title", "placeholder"]) {
      const v = node.getAttribute(attr);
      if (v) {
        const fixed = fixText(v);
        if (fixed !== null && fixed !== v) node.setAttribute(attr, fixed);
      }
    }
  };
  // One pass over a node and everything under it (no recursion: pages hold thousands of nodes).
  const fixNode = (node) => {
    if (node.nodeType !== 1 && node.nodeType !== 3) return;
    fixOne(node);
    if (node.nodeType !== 1) return;
    const walker = doc.createTreeWalker(node, 5);  // elements and text
    for (let n = walker.nextNode(); n; n = walker.nextNode()) fixOne(n);
  };
  fixNode(doc.body);
  new doc.defaultView.MutationObserver((changes) => {
    for (const c of changes) {
      if (c.type === "characterData" || c.type === "attributes") fixOne(c.target);
      else c.addedNodes.forEach((n) => fixNode(n));
    }
  }).observe(doc.body, {
    childList: true, subtree: true, characterData: true,
    attributes: true, attributeFilter: ["aria-label", "title", "placeholder"],
  });
})();
</script>
"""

CSS = """
<style>
/* A compact top: the question box and the first answer fit on a phone's first screen. */
[data-testid="stMainBlockContainer"] { padding-top: 3rem; padding-bottom: 3rem; }
h1 { font-size: 1.7rem !important; padding-top: 0.25rem !important; }
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding: 3.25rem 0.85rem 2rem; }
  h1 { font-size: 1.3rem !important; padding-bottom: 0.25rem !important; }
  h4 { font-size: 1.05rem !important; }
}
/* Citation links wrap instead of being cut mid-number (第一千二百四十|七条). */
[data-testid="stPageLink"] a, [data-testid="stPageLink"] span, [data-testid="stPageLink"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  height: auto !important; max-width: 100% !important;
}
[data-testid="stPageLink"] a { align-items: flex-start; background: transparent !important; }
/* Links to the page being shown are still links (Streamlit greys them as "current page"). */
[data-testid="stPageLink"] p { color: #2b6cb0; font-weight: normal !important; }
[data-testid="stPageLink"] a:hover p { text-decoration: underline; }
/* A code block holding a citation wraps too. */
[data-testid="stCode"] pre, [data-testid="stCode"] code { white-space: pre-wrap !important; word-break: break-all; }
/* Quoted law reads as a quotation. */
.fq-quote { border-left: 3px solid #8fb3d9; padding: 0.1rem 0 0.1rem 0.75rem; margin: 0.25rem 0; }
.fq-lead { color: #555; }
.fq-snippet { line-height: 1.7; }
</style>
"""


def chrome() -> None:
    """Put the page CSS and the word replacements on the page (call once per run)."""
    st.html(CSS)
    script = _SCRIPT.replace("%(words)s", json.dumps(WORDS, ensure_ascii=False))
    with st.sidebar:
        st.html(script, unsafe_allow_javascript=True, width=1)
