"""The 研判 page's charts as Altair specs: one home, so the page and the monthly report agree."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from retrieval.county.analysis import Cell

FONT = "WenQuanYi Micro Hei"


def trend(cells: Sequence[Cell], top: int = 6, width: int | str = "container") -> alt.Chart:
    """Records per month for the ``top`` most frequent types: one line each."""
    df = pd.DataFrame([{"类型": c.dispute_type, "月份": c.key, "件数": c.n} for c in cells])
    if df.empty:
        df = pd.DataFrame({"类型": [], "月份": [], "件数": []})
    keep = df.groupby("类型")["件数"].sum().nlargest(top).index if not df.empty else []
    df = df[df["类型"].isin(keep)]
    return (
        alt.Chart(df, title=f"各类纠纷月度件数（前 {top} 类）")
        .mark_line(point=True)
        .encode(
            x=alt.X("月份:O", axis=alt.Axis(labelAngle=-45, labelOverlap=True)),
            y=alt.Y("件数:Q"),
            color=alt.Color("类型:N", legend=alt.Legend(orient="bottom", columns=3)),
            tooltip=["类型", "月份", "件数"],
        )
        .properties(width=width, height=420)  # the whole chart: legend and labels take ~200
        .configure(font=FONT)
    )


def heat(cells: Sequence[Cell], region_name: str, width: int | str = "container") -> alt.Chart:
    """Records by type × region for the range: darker is more."""
    df = pd.DataFrame([{"类型": c.dispute_type, region_name: c.key, "件数": c.n} for c in cells])
    if df.empty:
        df = pd.DataFrame({"类型": [], region_name: [], "件数": []})
    return (
        alt.Chart(df, title=f"纠纷类型 × {region_name}")
        .mark_rect()
        .encode(
            x=alt.X(f"{region_name}:N", axis=alt.Axis(labelAngle=-45, labelLimit=90)),
            y=alt.Y("类型:N", axis=alt.Axis(labelLimit=80, labelOverlap=False)),
            color=alt.Color(
                "件数:Q", scale=alt.Scale(scheme="orangered"), legend=alt.Legend(orient="bottom")
            ),
            tooltip=["类型", region_name, "件数"],
        )
        .properties(width=width, height=520)  # 13 readable rows plus labels and legend
        .configure(font=FONT)
    )


def png(chart: alt.Chart, width: int = 640, height: int = 300) -> bytes:
    """The chart as a PNG (vl-convert, Chinese fonts from the system) for the report."""
    import vl_convert as vlc

    _register_fonts(vlc)
    # vl-convert sizes the plot area (Streamlit the whole chart): a page's height is too tall here
    spec = chart.properties(width=width, height=height).to_dict()
    return bytes(vlc.vegalite_to_png(spec, scale=2))


_registered: set[str] = set()


def _register_fonts(vlc: object) -> None:
    """Give vl-convert the system's CJK fonts (it draws text with its own font database)."""
    from ui.documents.fonts import known_fonts

    for font in known_fonts():
        folder = str(font.path.parent)
        if font.path.exists() and folder not in _registered:
            vlc.register_font_directory(folder)  # type: ignore[attr-defined]
            _registered.add(folder)
