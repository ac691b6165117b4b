"""The monthly 矛盾纠纷研判报告 as DOCX and PDF, charts embedded, from the page's Overview."""

from __future__ import annotations

import io
from dataclasses import dataclass

from retrieval.county.analysis import Overview
from retrieval.county.warning import RULE
from ui import county_charts


@dataclass(frozen=True)
class Report:
    title: str
    notes: tuple[str, ...]
    summary: tuple[str, ...]
    warnings: tuple[str, ...]
    table: tuple[tuple[str, ...], ...]  # header row first
    charts: tuple[tuple[str, bytes], ...]  # (caption, PNG)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def build(ov: Overview, scope_label: str, region_name: str) -> Report:
    """What the report says, once, for both formats."""
    month = f"{ov.end.year}年{ov.end.month}月"
    notes = [f"统计范围：{scope_label}，{ov.start:%Y-%m} 至 {ov.end:%Y-%m}（按调解日期）。"]
    if ov.synthetic:
        notes.insert(0, "【合成数据】本报告由合成演示数据生成，不是真实调解记录，仅供演示。")
    n = sum(r.n for r in ov.rates)
    success = sum(r.success for r in ov.rates)
    known = sum(r.perf_known for r in ov.rates)
    performed = sum(r.performed for r in ov.rates)
    settle_n = sum(r.settle_n for r in ov.rates)
    days = sum(r.settle_days for r in ov.rates)
    summary = (
        f"共受理调解 {n} 件，调解成功 {success} 件，调解成功率 {_pct(success / n if n else None)}。",
        f"调解成功且履行情况已知的 {known} 件中，已履行 {performed} 件，履行率 {_pct(performed / known if known else None)}。",
        f"平均调解用时 {days / settle_n:.1f} 天（{settle_n} 件记有受理日期）。"
        if settle_n
        else "没有记有受理日期的案件，无法计算调解用时。",
    )
    warns = [s for s in ov.signals if s.warn]
    lines = [
        f"{s.region or scope_label}·{s.dispute_type}：{month} {s.count} 件，季节基线 λ={s.expected:.1f}"
        f"（前 12 个月月均 {s.trailing_mean:.1f} × 季节指数 {s.seasonal_index:.2f}），p={s.p_value:.2g}"
        for s in warns
    ] or [f"{month}没有类型超过其季节基线。"]
    lines.append("预警规则：" + RULE.describe())
    table: list[tuple[str, ...]] = [
        ("纠纷类型", "件数", "调解成功率", "履行率", "平均用时（天）", "常用法条")
    ]
    for r in ov.rates:
        arts = "、".join(a for a, _ in ov.articles.get(r.dispute_type, []))
        d = r.days_to_settle
        table.append(
            (
                r.dispute_type,
                str(r.n),
                _pct(r.success_rate),
                _pct(r.performance_rate),
                "—" if d is None else f"{d:.1f}",
                arts,
            )
        )
    charts = (
        ("各类纠纷月度件数", county_charts.png(county_charts.trend(ov.by_month, width=600))),
        (
            f"纠纷类型 × {region_name}",
            county_charts.png(county_charts.heat(ov.by_region, region_name, width=600), height=340),
        ),
    )
    return Report(
        f"{scope_label}矛盾纠纷研判报告（{month}）",
        tuple(notes),
        summary,
        tuple(lines),
        tuple(table),
        charts,
    )


def to_docx(report: Report) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    doc.add_heading(report.title, level=1)
    for line in report.notes:
        doc.add_paragraph(line)
    for heading, lines in (("一、总体情况", report.summary), ("二、预警", report.warnings)):
        doc.add_heading(heading, level=2)
        for line in lines:
            doc.add_paragraph(line)
    doc.add_heading("三、分类型情况", level=2)
    table = doc.add_table(rows=0, cols=len(report.table[0]))
    table.style = "Table Grid"
    for row in report.table:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    doc.add_heading("四、图表", level=2)
    for caption, data in report.charts:
        doc.add_picture(io.BytesIO(data), width=Cm(16))
        doc.add_paragraph(caption)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_pdf(report: Report) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from reportlab.platypus.flowables import KeepTogether

    from ui.documents.fonts import pdf_fonts

    fonts = pdf_fonts()
    body = ParagraphStyle("body", fontName=fonts.body, fontSize=10.5, leading=16, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11)
    h1 = ParagraphStyle(
        "h1", parent=body, fontName=fonts.heading, fontSize=16, leading=24, spaceAfter=8
    )
    h2 = ParagraphStyle(
        "h2", parent=body, fontName=fonts.heading, fontSize=12.5, leading=20, spaceBefore=8
    )
    story: list[object] = [Paragraph(escape(report.title), h1)]
    story += [Paragraph(escape(line), body) for line in report.notes]
    for heading, lines in (("一、总体情况", report.summary), ("二、预警", report.warnings)):
        story.append(Paragraph(heading, h2))
        story += [Paragraph(escape(line), body) for line in lines]
    story.append(Paragraph("三、分类型情况", h2))
    rows = [[Paragraph(escape(v), small) for v in row] for row in report.table]
    widths = [2.2 * cm, 1.3 * cm, 2.0 * cm, 1.6 * cm, 2.2 * cm, 7.7 * cm]
    grid = Table(rows, colWidths=widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ]
        )
    )
    story.append(grid)
    for i, (caption, data) in enumerate(report.charts):
        img = Image(io.BytesIO(data))
        scale = 16 * cm / img.drawWidth
        img.drawWidth, img.drawHeight = img.drawWidth * scale, img.drawHeight * scale
        head = [Paragraph("四、图表", h2)] if i == 0 else []  # never alone at a page's foot
        story.append(KeepTogether([*head, img, Paragraph(escape(caption), small), Spacer(1, 8)]))
    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, title=report.title, leftMargin=2 * cm, rightMargin=2 * cm
    ).build(story)  # type: ignore[arg-type]
    return out.getvalue()
