"""The 研判 page and its warning rule: counts per role, planted trends found, quiet without one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from retrieval.county import analysis as an
from retrieval.county import synthetic as syn
from retrieval.county.warning import Rule, binomial_upper_tail, evaluate, poisson_upper_tail
from tests import pgserver
from ui.accounts import Accounts

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
PAGE = "views/analysis.py"
END = date(2026, 10, 1)
PLANTED = (syn.Trend("土地承包", END, 4.0), syn.Trend("物业服务", END, 6.0, town="东湖街道"))


@pytest.fixture(scope="module")
def demo_uri() -> Iterator[str]:
    with pgserver.server_for_tests() as server:
        uri = pgserver.fresh_database(server)
        syn.load(uri, syn.model_for(6000, end=END, trends=PLANTED), seed=3)
        yield uri


def test_poisson_tail_matches_known_values() -> None:
    assert poisson_upper_tail(0, 3.0) == 1.0
    assert poisson_upper_tail(1, 3.0) == pytest.approx(1 - np.exp(-3.0))
    assert poisson_upper_tail(10, 3.0) == pytest.approx(0.0011025, rel=1e-3)
    assert poisson_upper_tail(60, 20.0) == pytest.approx(4.2332847e-13, rel=1e-6)  # scipy's sf
    assert binomial_upper_tail(30, 80, 0.2) == pytest.approx(2.2327728e-4, rel=1e-6)


def test_a_seasonal_peak_is_not_a_warning_but_a_rise_above_it_is() -> None:
    start = date(2022, 1, 1)
    counts = {}
    for k in range(48):
        m = syn.add_months(start, k)
        counts[m] = 30 if m.month == 1 else 10  # wage arrears every January
    jan = date(2025, 1, 1)
    usual = evaluate("劳动劳务", counts, jan, start)
    assert usual is not None and not usual.warn and usual.seasonal_index > 2.4
    counts[jan] = 60
    risen = evaluate("劳动劳务", counts, jan, start)
    assert risen is not None and risen.warn and risen.count == 60
    assert evaluate("劳动劳务", counts, date(2022, 6, 1), start) is None  # no year of history


def test_the_rule_finds_planted_trends_and_stays_mostly_quiet_without() -> None:
    rng = np.random.default_rng(11)
    found = alarms = tests = 0
    for trial in range(20):
        end = date(2025, 1 + trial % 12, 1)
        for planted in (False, True):
            trends = (syn.Trend("邻里关系", end, 2.0),) if planted else ()
            model = syn.model_for(20000, end=end, trends=trends)
            for t in syn.TYPES:
                counts = {m: int(rng.poisson(v)) for m, v in syn.expected_counts(model, t).items()}
                s = evaluate(t, counts, end, model.start, Rule())
                assert s is not None
                if planted and t == "邻里关系":
                    found += s.warn
                elif not planted:
                    tests += 1
                    alarms += s.warn
    assert found >= 19  # ×2 on the commonest type: found nearly every time
    assert alarms / tests < 0.01  # 260 tests without a trend


def test_planted_trends_are_warned_and_drill_down_to_their_cases(demo_uri: str) -> None:
    with an.open_store(demo_uri, demo=True) as conn:
        warned = {(s.region, s.dispute_type) for s in an.signals(conn, an.Scope(), END) if s.warn}
        assert ("", "土地承包") in warned
        assert ("东湖街道", "物业服务") in warned
        shown = an.cases(conn, an.Scope(town="东湖街道"), "物业服务", END)
        counted = an.counts_by_month(conn, an.Scope(town="东湖街道"), END, END)
    assert len(shown) == next(c.n for c in counted if c.dispute_type == "物业服务")
    assert all(r.synthetic and r.title.startswith("【合成】") for r in shown)


def _app(kb: Path, uri: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("FENGQIAO_KB", str(kb))
    monkeypatch.setenv("FENGQIAO_COUNTY_URI", uri)
    return AppTest.from_file(APP, default_timeout=60)


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.run()
    at.text_input(key="fengqiao-login-name").input(name)
    at.text_input(key="fengqiao-login-password").input(password)
    at.button[0].click().run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [h.value for h in at.subheader]
    parts += [
        a.value for kind in ("error", "warning", "info", "success") for a in getattr(at, kind)
    ]
    parts += [link.proto.label for link in at.page_link]
    return "\n".join(parts).replace("\\", "")


def test_an_analyst_sees_the_demo_warned_and_follows_a_warning_to_cases(
    demo_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Accounts.in_kb(tmp_path).add("王研判", "analyst pass 1", "analyst")
    at = _sign_in(_app(tmp_path, demo_uri, monkeypatch), "王研判", "analyst pass 1")
    at.radio(key="an-source").set_value("演示数据（合成）").run()
    at.selectbox(key="an-month").set_value(END).run()
    assert not at.exception, at.exception
    text = _text(at)
    assert "合成数据 · 仅供演示" in text
    assert "土地承包**：2026年10月" in text and "季节基线 λ" in text
    at.button(key="an-warn--土地承包").click().run()
    assert not at.exception, at.exception
    assert "案件：全部 · 土地承包 · 2026年10月" in _text(at)
    assert len(at.dataframe[0].value) > 10
    assert any("农村土地承包法第55条" in link.proto.label for link in at.page_link)


def test_a_mediator_sees_only_their_own_committee(
    demo_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Accounts.in_kb(tmp_path).add("李调解", "mediator pass 1", "mediator")
    at = _sign_in(_app(tmp_path, demo_uri, monkeypatch), "李调解", "mediator pass 1")
    assert "本机还没有设置所属调委会" in _text(at)
    mine = "东湖社区人民调解委员会"
    (tmp_path / "county.json").write_text(json.dumps({"committee": mine}), encoding="utf-8")
    at.run()
    at.radio(key="an-source").set_value("演示数据（合成）").run()
    assert not at.exception, at.exception
    assert f"调解员只看本调委会：{mine}" in _text(at)
    assert at.selectbox(key="an-month").value is not None
    with an.open_store(demo_uri, demo=True) as conn:
        end = at.selectbox(key="an-month").value
        own = sum(
            r.n for r in an.rates(conn, an.Scope(committee=mine), syn.add_months(end, -11), end)
        )
        everyone = sum(r.n for r in an.rates(conn, an.Scope(), syn.add_months(end, -11), end))
    assert own < everyone
    assert at.metric[0].value == f"{own} 件"


def test_the_monthly_report_embeds_both_charts_in_docx_and_pdf(demo_uri: str) -> None:
    import io

    from docx import Document
    from pypdf import PdfReader

    from ui.documents import county_report

    with an.open_store(demo_uri, demo=True) as conn:
        ov = an.overview(conn, an.Scope(), syn.add_months(END, -11), END)
    report = county_report.build(ov, "枫桥县（合成）", "乡镇")
    assert all(png.startswith(b"\x89PNG") and len(png) > 20_000 for _, png in report.charts)
    pdf = PdfReader(io.BytesIO(county_report.to_pdf(report)))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "枫桥县（合成）矛盾纠纷研判报告（2026年10月）" in text
    assert "【合成数据】" in text and "土地承包" in text
    assert sum(len(p.images) for p in pdf.pages) == 2
    doc = Document(io.BytesIO(county_report.to_docx(report)))
    assert len(doc.inline_shapes) == 2
    assert doc.tables[0].rows[0].cells[0].text == "纠纷类型"


def test_page_views_share_one_connection_and_replace_one_the_server_dropped(
    demo_uri: str,
) -> None:
    pool = an.Pool(demo_uri, demo=True)
    with pool.connection() as conn:
        first = conn.execute("SELECT pg_backend_pid()").fetchone()
    with pool.connection() as conn:
        assert conn.execute("SELECT pg_backend_pid()").fetchone() == first  # no new set-up
        with pool.connection() as other:  # a second session at the same time gets its own
            assert other.execute("SELECT pg_backend_pid()").fetchone() != first
    with an.open_store(demo_uri, demo=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", first)
    with pool.connection() as conn:  # the dropped one is noticed and replaced, no error shown
        assert conn.execute("SELECT pg_backend_pid()").fetchone() != first
        assert an.month_span(conn) is not None
    pool.close()


def test_the_servers_first_session_warms_the_county_page_once(
    demo_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import county_warm

    uri = pgserver.fresh_database(demo_uri.rsplit("/", 1)[0] + "/postgres")
    syn.load(uri, syn.model_for(300, end=END), seed=5)  # a demo store only, no real one yet
    monkeypatch.setattr(county_warm, "_started", False)
    monkeypatch.setenv("FENGQIAO_COUNTY_URI", uri)
    thread = county_warm.start()
    assert thread is not None and county_warm.start() is None  # once per process
    thread.join(60)
    # the page's first view finds a connection open and its default view (whole county,
    # last 12 months) computed, though the real store it tried first does not exist yet
    assert len(an.pool(uri, demo=True)._idle) == 1
    assert [k[1:4] for k in an.pool(uri, demo=True)._memo] == [
        (an.Scope(), syn.add_months(END, -11), END)
    ]
    monkeypatch.setattr(county_warm, "_started", False)
    monkeypatch.delenv("FENGQIAO_COUNTY_URI")
    assert county_warm.start() is None  # no county store: nothing to warm


def test_the_overview_is_kept_until_the_next_sync_writes(demo_uri: str) -> None:
    from dataclasses import replace

    from retrieval.county import schema
    from retrieval.county.sync import Identity, reconcile

    uri = pgserver.fresh_database(demo_uri.rsplit("/", 1)[0] + "/postgres")
    who = Identity("东村人民调解委员会", "清河镇", "枫桥县")
    model = syn.model_for(3000, end=END)
    records = [
        replace(r, committee=who.committee, town=who.town, county=who.county, synthetic=False)
        for _, rs in syn.generate(model)
        for r in rs
        if r.settled >= "2026-01-01"
    ][:40]
    schema.migrate(uri)
    pool = an.Pool(uri)
    start = syn.add_months(END, -11)
    with schema.connect(uri) as writer:
        reconcile(writer, who, records[:30], token=1, route="network")
        with pool.connection() as conn:
            first = pool.overview(conn, an.Scope(), start, END)
            assert pool.overview(conn, an.Scope(), start, END) is first  # no second read
            assert sum(r.n for r in first.rates) == 30
        reconcile(writer, who, records, token=2, route="network")
        with pool.connection() as conn:
            assert sum(r.n for r in pool.overview(conn, an.Scope(), start, END).rates) == 40
    pool.close()
