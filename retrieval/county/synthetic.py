"""Synthetic county records with known planted trends: for the demo, the bench and the tests.

Every record made here has ``synthetic=True`` and a title beginning 【合成】, and
:func:`load` writes only to the demo schema (``county_demo``), whose kind is
"synthetic": the store refuses real records there and synthetic ones elsewhere.

The model: each committee has a base monthly rate per dispute type, times the
type's seasonal profile (wage arrears before the Spring Festival, land contracts at
spring planting, neighbour quarrels in summer …); counts are Poisson. A planted
trend multiplies one type's rate in one month (and optionally one town) by a factor.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from retrieval.county import schema, store
from retrieval.county.records import CountyRecord
from retrieval.county.warning import add_months

COUNTY = "枫桥县（合成）"
TOWNS: dict[str, tuple[str, ...]] = {
    "清河镇": ("东村", "西村", "南庄村", "北塘村", "河口村"),
    "白沙镇": ("白沙村", "沙湾村", "桃园村", "柳林村", "上坝村"),
    "青山乡": ("青山村", "石门村", "竹溪村", "茶岭村"),
    "柳溪镇": ("柳溪村", "新桥村", "荷塘村", "王家村", "李家村"),
    "石桥乡": ("石桥村", "杏花村", "龙潭村", "平安村"),
    "东湖街道": ("东湖社区", "湖滨社区", "春晓社区", "锦绣社区", "阳光社区", "滨江社区"),
}

# Relative share of each type, its seasonal profile (multipliers by calendar month, 1..12),
# its success probability, typical days to settle and the articles successful mediations cite.
_FLAT = (1.0,) * 12


@dataclass(frozen=True)
class TypeModel:
    share: float
    season: tuple[float, ...]
    success: float
    days: float
    articles: tuple[str, ...]


TYPES: dict[str, TypeModel] = {
    "婚姻家庭": TypeModel(0.14, (1.2, 1.6, 1.4, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.1), 0.86, 12, ("民法典:1079", "民法典:1087", "民法典:1084")),
    "继承": TypeModel(0.05, (1.3, 1.5, 1.1, 1.2, 0.9, 0.8, 0.8, 0.8, 0.9, 1.0, 0.9, 1.0), 0.82, 20, ("民法典:1127", "民法典:1123", "民法典:1130")),
    "邻里关系": TypeModel(0.18, (0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.3, 1.1, 1.0, 0.8, 0.8), 0.93, 5, ("民法典:288", "民法典:296", "民法典:290")),
    "房屋宅基地": TypeModel(0.08, (0.7, 0.7, 1.1, 1.4, 1.4, 1.2, 1.0, 0.9, 1.0, 1.1, 1.0, 0.8), 0.80, 18, ("民法典:362", "民法典:363", "民法典:288")),
    "土地承包": TypeModel(0.07, (0.8, 1.0, 1.8, 1.7, 1.0, 0.8, 0.7, 0.7, 0.9, 1.1, 1.0, 0.8), 0.78, 22, ("农村土地承包法:55", "农村土地承包法:21", "民法典:331")),
    "合同借贷": TypeModel(0.09, (1.5, 1.2, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.4), 0.75, 15, ("民法典:675", "民法典:679", "民法典:577")),
    "损害赔偿": TypeModel(0.08, _FLAT, 0.84, 10, ("民法典:1165", "民法典:1179", "民法典:1173")),
    "劳动劳务": TypeModel(0.10, (2.2, 1.3, 0.8, 0.7, 0.7, 0.8, 0.8, 0.8, 0.8, 0.9, 1.2, 1.9), 0.83, 9, ("劳动合同法:30", "劳动合同法:85", "民法典:1192")),
    "物业服务": TypeModel(0.06, _FLAT, 0.88, 7, ("民法典:942", "民法典:944", "民法典:286")),
    "消费维权": TypeModel(0.04, (1.1, 1.3, 1.0, 0.9, 0.9, 1.0, 0.9, 0.9, 0.9, 1.0, 1.3, 1.1), 0.90, 4, ("消费者权益保护法:55", "消费者权益保护法:24", "民法典:582")),
    "道路交通": TypeModel(0.05, (1.1, 1.2, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.2, 1.0, 1.0), 0.79, 14, ("道路交通安全法:76", "民法典:1208", "民法典:1213")),
    "医疗纠纷": TypeModel(0.02, _FLAT, 0.70, 30, ("民法典:1218", "民法典:1219", "民法典:1221")),
    "其他": TypeModel(0.04, _FLAT, 0.85, 8, ("民法典:132", "民法典:8", "民法典:10")),
}  # fmt: skip


@dataclass(frozen=True)
class Trend:
    """A planted rise: ``factor`` × the usual rate of ``dispute_type`` in ``month`` (in ``town``)."""

    dispute_type: str
    month: date
    factor: float
    town: str = ""


@dataclass(frozen=True)
class Model:
    start: date  # first month
    months: int
    per_month: float  # expected records per committee per month, over all types
    trends: tuple[Trend, ...] = ()
    county: str = COUNTY

    @property
    def end(self) -> date:
        return add_months(self.start, self.months - 1)

    @property
    def committees(self) -> list[tuple[str, str]]:
        return [(town, f"{v}人民调解委员会") for town, vs in TOWNS.items() for v in vs]

    def rate(self, dispute_type: str, month: date, town: str) -> float:
        t = TYPES[dispute_type]
        r = self.per_month * t.share * t.season[month.month - 1]
        for tr in self.trends:
            if tr.dispute_type == dispute_type and tr.month == month and tr.town in ("", town):
                r *= tr.factor
        return r


def model_for(records: int, *, end: date, months: int = 48, trends: Sequence[Trend] = ()) -> Model:
    """A model whose expected total is about ``records``, ending with month ``end``."""
    committees = sum(len(v) for v in TOWNS.values())
    mean_season = sum(t.share * sum(t.season) / 12 for t in TYPES.values())
    per_month = records / (committees * months * mean_season)
    return Model(add_months(end, -(months - 1)), months, per_month, tuple(trends))


def demo_trends(end: date) -> tuple[Trend, ...]:
    """What the demo plants in its last month: one county-wide rise and one in a single town."""
    return (
        Trend("土地承包", end, 2.2),
        Trend("物业服务", end, 5.0, town="东湖街道"),
    )


def _text(dispute_type: str, settled: date, number: str) -> tuple[str, str, str]:
    facts = (
        f"【合成】{settled.year}年{settled.month}月，村民张某与李某因{dispute_type}纠纷申请调解"
        f"（合成记录 {number}，仅供演示）。"
    )
    return facts, "调解员分别听取双方意见，释法说理。", "双方达成调解协议。"


def generate(model: Model, seed: int = 7) -> Iterator[tuple[str, list[CountyRecord]]]:
    """Each committee's synthetic records, committee by committee (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    types = list(TYPES)
    for town, committee in model.committees:
        out: list[CountyRecord] = []
        for k in range(model.months):
            month = add_months(model.start, k)
            next_month = add_months(month, 1)
            days = (next_month - month).days
            for dt in types:
                t = TYPES[dt]
                for _ in range(int(rng.poisson(model.rate(dt, month, town)))):
                    number = f"S{month.year}{month.month:02d}-{len(out) + 1:05d}"
                    settled = month + timedelta(days=int(rng.integers(0, days)))
                    ok = bool(rng.random() < t.success)
                    u = rng.random()
                    perf = (
                        "performed" if u < 0.84 else "partial" if u < 0.92 else "breached" if u < 0.97 else "unknown"
                    )  # fmt: skip
                    wait = int(min(180, rng.gamma(2.0, t.days / 2.0)))
                    cited = tuple(a for a in t.articles if rng.random() < 0.6) or t.articles[:1]
                    facts, process, agreement = _text(dt, settled, number)
                    out.append(
                        CountyRecord(
                            committee=committee,
                            number=number,
                            county=model.county,
                            town=town,
                            revision=1,
                            dispute_type=dt,
                            settled=settled.isoformat(),
                            received=(settled - timedelta(days=wait)).isoformat(),
                            outcome="success" if ok else "failed",
                            performance_status=perf if ok else "unknown",  # type: ignore[arg-type]
                            cited=cited if ok else (),
                            title=f"【合成】{dt}纠纷 {number}",
                            facts=facts,
                            process=process,
                            result="调解成功" if ok else "调解不成，告知诉讼途径",
                            agreement=agreement if ok else "",
                            performance={"performed": "已履行", "partial": "部分履行", "breached": "未履行", "unknown": ""}[perf] if ok else "",
                            region=f"{town}{committee.removesuffix('人民调解委员会')}",
                            synthetic=True,
                        )
                    )  # fmt: skip
        yield committee, out


def load(uri: str, model: Model, *, seed: int = 7, batch: int = 5000) -> int:
    """Replace the demo store's records with ``model``'s (demo schema only); returns the count."""
    schema.migrate(uri, schema.DEMO_SCHEMA, kind="synthetic")
    total = 0
    with schema.connect(uri, schema.DEMO_SCHEMA) as conn:
        schema.check_kind(conn, "synthetic")
        conn.commit()
        conn.autocommit = True  # one real transaction per committee, not savepoints of one
        with conn.transaction():
            for table in ("records", "monthly_stats", "monthly_articles", "sync_state", "sync_log"):
                conn.execute(f"TRUNCATE {table}")  # type: ignore[arg-type]
        for committee, records in generate(model, seed):
            town = records[0].town if records else ""
            with conn.transaction():
                for i in range(0, len(records), batch):
                    store.copy_records(conn, records[i : i + batch])
                store.refresh_aggregates(conn, [committee])
                store.set_state(
                    conn,
                    committee,
                    county=model.county,
                    town=town,
                    token=len(records),
                    route="synthetic",
                )
                store.log_batch(
                    conn, committee, route="synthetic", batch=1, added=len(records), updated=0,
                    withdrawn=0, token=len(records),
                )  # fmt: skip
            total += len(records)
        conn.execute("ANALYZE")
    return total


def load_demo(uri: str, *, records: int = 20000, seed: int = 7, end: date | None = None) -> int:
    """Fill the demo store: four years ending last month, with :func:`demo_trends` planted."""
    if end is None:
        today = date.today()
        end = add_months(date(today.year, today.month, 1), -1)
    return load(uri, model_for(records, end=end, trends=demo_trends(end)), seed=seed)


def expected_counts(model: Model, dispute_type: str, town: str = "") -> dict[date, float]:
    """The model's expected count per month for one type (county-wide, or one town)."""
    out: dict[date, float] = {}
    for k in range(model.months):
        month = add_months(model.start, k)
        out[month] = math.fsum(
            model.rate(dispute_type, month, t) for t, _ in model.committees if town in ("", t)
        )
    return out
