"""The CJK fonts a PDF embeds: found (env override, known paths, fontconfig), checked, registered."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ui.documents.document import ExportError

logger = logging.getLogger(__name__)

ENV = "FENGQIAO_PDF_FONT"
# Every font we accept must draw these: a document with only some of them would show boxes.
PROBE = "中华人民共和国调解协议书当事人签名第一千零七十九条，。、；：？！（）《》“”"
INSTALL_HINT = (
    "安装中文字体后重试（Debian/Ubuntu：apt-get install fonts-arphic-uming fonts-wqy-microhei），"
    f"或设置环境变量 {ENV} 指向一个 TrueType 中文字体文件（.ttf/.ttc，如 simsun.ttc）"
)

Style = Literal["serif", "sans"]


class FontError(ExportError):
    """No usable CJK font for PDF export (message in Chinese, with a hint)."""


@dataclass(frozen=True)
class FontFile:
    """A font face on disk: a .ttf, or one face (``index``) of a .ttc collection."""

    path: Path
    index: int = 0
    family: str = ""
    style: Style = "sans"


@dataclass(frozen=True)
class PdfFonts:
    """Registered reportlab font names: body text, headings, and the order tried for a glyph."""

    body: str
    heading: str
    chain: tuple[str, ...]
    files: tuple[FontFile, ...]


def _windows_fonts() -> Path:
    return Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts"


def known_fonts() -> list[FontFile]:
    """Fonts we know to be TrueType-outlined CJK faces, best for a mediation document first.

    AR PL UMing (a 明体/宋体 face, Debian fonts-arphic-uming) reads like the 宋体/仿宋 of a
    printed 协议书; WenQuanYi Micro Hei (fonts-wqy-microhei, the browser test's font) is a
    黑体 used for headings. Noto CJK is not listed: its outlines are CFF, which reportlab
    cannot embed.
    """
    win = _windows_fonts()
    return [
        FontFile(win / "simfang.ttf", 0, "FangSong", "serif"),
        FontFile(win / "simsun.ttc", 0, "SimSun", "serif"),
        FontFile(Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 0, "AR PL UMing CN", "serif"),
        FontFile(
            Path("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"),
            0,
            "AR PL SungtiL GB",
            "serif",
        ),
        FontFile(win / "simhei.ttf", 0, "SimHei", "sans"),
        FontFile(
            Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0, "WenQuanYi Micro Hei", "sans"
        ),
        FontFile(
            Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0, "WenQuanYi Zen Hei", "sans"
        ),
        FontFile(
            Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
            0,
            "Droid Sans Fallback",
            "sans",
        ),
    ]


_SERIF = re.compile(r"ming|song|sung|serif|fang|kai|宋|明|仿|楷", re.IGNORECASE)


def fontconfig_fonts() -> list[FontFile]:
    """Simplified-Chinese TrueType faces fontconfig knows (none where fc-list is missing)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        out = subprocess.run(
            [fc_list, "-f", "%{file}\t%{index}\t%{family[0]}\t%{fontformat}\t%{spacing}\n"]
            + [":lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in sorted(out.splitlines()):
        parts = line.split("\t")
        if len(parts) != 5:
            continue
        path, index, family, fmt, spacing = parts
        # CFF outlines (Noto CJK, Source Han) cannot be embedded by reportlab; monospace
        # variants would set Chinese text with Latin-width gaps.
        if fmt != "TrueType" or spacing == "100" or not index.isdigit():
            continue
        style: Style = "serif" if _SERIF.search(family) else "sans"
        found.append(FontFile(Path(path), int(index), family, style))
    return found


def parse_env(value: str) -> FontFile:
    """``/path/font.ttc`` or ``/path/font.ttc#2`` (face index within a collection)."""
    path, _, index = value.strip().partition("#")
    if index and not index.isdigit():
        raise FontError(
            f"环境变量 {ENV} 的字体序号“{index}”不是数字。建议：写成“/路径/字体.ttc#0”的形式。"
        )
    file = Path(path).expanduser()
    return FontFile(file, int(index or 0), file.stem, "serif")


def _register(font: FontFile) -> str:
    """Load and register a face with reportlab; return its name, or raise FontError why not."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = "FQ-" + re.sub(r"[^A-Za-z0-9]+", "", f"{font.path.stem}{font.index}")
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    if not font.path.is_file():
        raise FontError(f"找不到字体文件 {font.path}")
    try:
        face = TTFont(name, str(font.path), subfontIndex=font.index)
    except Exception as exc:  # reportlab raises TTFError and others for CFF or broken files
        raise FontError(f"字体 {font.path}（第 {font.index} 号字形）无法嵌入 PDF：{exc}") from exc
    missing = [ch for ch in PROBE if ord(ch) not in face.face.charToGlyph]
    if missing:
        raise FontError(f"字体 {font.path} 缺少常用汉字或标点：{''.join(missing)}")
    pdfmetrics.registerFont(face)
    return name


@lru_cache(maxsize=4)
def _find(env_value: str) -> PdfFonts:
    if env_value:
        chosen = parse_env(env_value)
        try:
            first = _register(chosen)
        except FontError as exc:
            # An explicit choice that fails is an error, never a silent switch to another font.
            raise FontError(f"{exc}（来自环境变量 {ENV}）。建议：{INSTALL_HINT}。") from exc
        files, names = [chosen], [first]
    else:
        files, names = [], []
    seen = {(f.path.resolve(), f.index) for f in files}
    for font in known_fonts() + fontconfig_fonts():
        key = (font.path.resolve(), font.index) if font.path.exists() else None
        if key is None or key in seen:
            continue
        seen.add(key)
        try:
            names.append(_register(font))
            files.append(font)
        except FontError as exc:
            logger.info("PDF font skipped: %s", exc)
    if not names:
        raise FontError(
            f"找不到可嵌入 PDF 的中文字体，无法导出 PDF。建议：{INSTALL_HINT}；或改为导出 DOCX。"
        )
    if env_value:
        body = heading = names[0]
    else:
        body = next((n for n, f in zip(names, files, strict=True) if f.style == "serif"), names[0])
        heading = next((n for n, f in zip(names, files, strict=True) if f.style == "sans"), body)
    return PdfFonts(body, heading, tuple(names), tuple(files))


def pdf_fonts() -> PdfFonts:
    """The fonts PDF export uses on this machine; raises FontError (Chinese) when there are none."""
    return _find(os.environ.get(ENV, ""))


def has_glyph(font_name: str, ch: str) -> bool:
    from reportlab.pdfbase import pdfmetrics

    return ord(ch) in pdfmetrics.getFont(font_name).face.charToGlyph
