"""One committee record as the county keeps it: masked text plus the fields the 研判 page counts."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any, Literal

from retrieval.precedents import Precedent

Outcome = Literal["success", "failed"]
Performance = Literal["performed", "partial", "breached", "unknown"]
OUTCOME_NAMES = {"success": "调解成功", "failed": "调解不成"}
PERFORMANCE_NAMES = {
    "performed": "已履行",
    "partial": "部分履行",
    "breached": "未履行",
    "unknown": "不详",
}

# Words a committee writes when mediation did not end in an agreement, or how it is honoured.
_FAILED = re.compile(r"调解不成|未达成|未能达成|调解未成功|调解失败|终止调解|不同意调解|不成功")
_BREACHED = re.compile(r"未履行|拒不履行|拒绝履行|反悔|未按约|没有履行|不履行")
_PARTIAL = re.compile(r"部分履行|正在履行|履行中|分期|尚未全部|剩余")
_PERFORMED = re.compile(
    r"已履行|履行完毕|已全部履行|全部履行|已支付|已付清|已给付|已兑现|已搬离|已拆除"
)
_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")


@dataclass(frozen=True)
class CountyRecord:
    """A record in the county store; ``digest`` covers everything but the sync bookkeeping."""

    committee: str
    number: str
    county: str
    town: str
    revision: int
    dispute_type: str
    settled: str  # YYYY-MM-DD or ""
    received: str  # YYYY-MM-DD or ""
    outcome: Outcome
    performance_status: Performance
    cited: tuple[str, ...]
    title: str = ""
    facts: str = ""
    focus: str = ""
    process: str = ""
    result: str = ""
    agreement: str = ""
    performance: str = ""
    articles: str = "[]"  # JSON list of Citation dicts, as the committee store keeps them
    parties: str = "[]"  # JSON list of masked names
    region: str = ""
    dispute_type_origin: str = "metadata"
    created: str = ""
    updated: str = ""
    synthetic: bool = False

    @property
    def digest(self) -> str:
        body = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["cited"] = list(self.cited)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CountyRecord:
        """A record from a bundle line; raises ValueError naming the field that is wrong."""
        names = {f.name: f for f in fields(cls)}
        missing = [n for n in ("committee", "number", "revision", "dispute_type") if n not in data]
        if missing:
            raise ValueError(f"缺少字段 {'、'.join(missing)}")
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(f"未知字段 {'、'.join(unknown)}")
        values: dict[str, Any] = {}
        for name in names:
            if name not in data:
                continue
            v = data[name]
            if name == "cited":
                if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                    raise ValueError("cited 应为字符串列表")
                v = tuple(v)
            elif name == "revision":
                if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                    raise ValueError("revision 应为正整数")
            elif name == "synthetic":
                if not isinstance(v, bool):
                    raise ValueError("synthetic 应为 true 或 false")
            elif not isinstance(v, str):
                raise ValueError(f"{name} 应为文本")
            values[name] = v
        if values.get("outcome", "success") not in OUTCOME_NAMES:
            raise ValueError(f"outcome “{values['outcome']}”无效")
        if values.get("performance_status", "unknown") not in PERFORMANCE_NAMES:
            raise ValueError(f"performance_status “{values['performance_status']}”无效")
        for name in ("settled", "received"):
            if values.get(name) and _iso_date(values[name]) is None:
                raise ValueError(f"{name} “{values[name]}”不是日期")
        values.setdefault("settled", "")
        values.setdefault("received", "")
        values.setdefault("outcome", "success")
        values.setdefault("performance_status", "unknown")
        values.setdefault("cited", ())
        values.setdefault("county", "")
        values.setdefault("town", "")
        return cls(**values)


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def settled_date(text: str) -> str:
    """The committee store's date (``2024-03-05`` or ``2024-03``) as a full date, or ""."""
    if len(text) == 7:
        text += "-01"
    return text if _iso_date(text) else ""


def outcome_of(result: str, agreement: str) -> Outcome:
    """调解成功 unless the record says the mediation ended without an agreement."""
    if _FAILED.search(result) or (not agreement.strip() and _FAILED.search(result + agreement)):
        return "failed"
    return "success"


def performance_of(text: str) -> Performance:
    """How the agreement is honoured, from the 履行情况 the committee wrote (checked in this order)."""
    if _BREACHED.search(text):
        return "breached"
    if _PARTIAL.search(text):
        return "partial"
    if _PERFORMED.search(text):
        return "performed"
    return "unknown"


def received_of(settled: str, *texts: str) -> str:
    """The earliest date written in the facts or process, when it is before the settled date.

    Committees often write when a dispute was brought (2024年3月1日，申请人…); with no
    such date the record has none, and time to settle leaves it out.
    """
    end = _iso_date(settled) if settled else None
    if end is None:
        return ""
    found: list[date] = []
    for text in texts:
        for m in _DATE.finditer(text):
            try:
                d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
            if d <= end and (end - d).days <= 366:
                found.append(d)
    return min(found).isoformat() if found else ""


def from_precedent(p: Precedent, *, committee: str, town: str, county: str) -> CountyRecord:
    """A committee's stored (already masked) record as the county keeps it."""
    settled = settled_date(p.date)
    return CountyRecord(
        committee=committee,
        number=p.number,
        county=county,
        town=town,
        revision=p.revision,
        dispute_type=p.dispute_type,
        settled=settled,
        received=received_of(settled, p.facts, p.process),
        outcome=outcome_of(p.result, p.agreement),
        performance_status=performance_of(p.performance),
        cited=tuple(c.resolved_id for c in p.articles if c.resolved_id),
        title=p.title,
        facts=p.facts,
        focus=p.focus,
        process=p.process,
        result=p.result,
        agreement=p.agreement,
        performance=p.performance,
        articles=json.dumps([c.to_dict() for c in p.articles], ensure_ascii=False, sort_keys=True),
        parties=json.dumps(list(p.parties), ensure_ascii=False),
        region=p.region,
        dispute_type_origin=p.dispute_type_origin,
        created=p.created,
        updated=p.updated,
    )
