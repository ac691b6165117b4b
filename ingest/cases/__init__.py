"""Resolved cases in: typical cases, answered consultations, mediation records → Case records."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from ingest import atomic
from ingest.anonymise import Anonymiser
from ingest.cachekey import code_digest
from ingest.cases import committee, consultations, lawrefbook, questions
from ingest.cases.classify import classify
from ingest.cases.link import ArticleIndex, LinkReport, Unresolved, link_cases, source_key
from ingest.cases.sections import SECTION_NAMES, ParsedCase
from ingest.cases.verdicts import merge_duplicates, with_quotes
from ingest.citations import extract_citations
from ingest.paths import (
    HIDDEN_HINT,
    HIDDEN_REASON,
    OUTSIDE_HINT,
    hidden_note,
    inner_link_note,
    is_hidden,
    leaves,
    outside_reason,
)
from ingest.records import (
    AI_ANSWER,
    CONSULTATION,
    LABELLED,
    Case,
    Citation,
    FileReport,
    IngestReport,
    Problem,
)

__all__ = [
    "SECTION_NAMES",
    "ArticleIndex",
    "LinkReport",
    "Unresolved",
    "case_from_parsed",
    "link_cases",
    "load_cases",
    "source_key",
]

logger = logging.getLogger(__name__)

_COMMITTEE_SUFFIXES = {".csv", ".jsonl", ".docx", ".pdf"}
_CASE_SUFFIXES = _COMMITTEE_SUFFIXES | {".json"}
# What a file report counts as read, by reader.
_UNITS = {"docx": "份", "pdf": "份", "lawbench-3-8": "条记录", "lawyer-llama": "条记录"}
_UNITS["lawrefbook"] = "个文件"
_UNITS["questions"] = "个标注问题"
# Sections holding statute text: nothing personal to mask there, and masking it
# would be slow and could only do harm.
_NO_MASK = {"法律依据", "相关法条"}
# Words right before a label that show it is a cross-reference inside quoted
# statute text (依照本法第四十条), not a citation made by the answer itself.
_QUOTED_REF = ("本法", "本条例", "本规定", "本解释", "本办法")
_JOIN_ONLY = re.compile(r"\s*(?:、|，|,|和|及|以及|或者|或|与|至|到)\s*")


def _plan(paths: Sequence[Path], report: IngestReport) -> list[tuple[str, Path]]:
    """Decide how to read every input: (reader, path) in a stable order.

    Inside a folder, a link that leads out of it is reported and not followed, a
    link that stays inside is noted and left (its target is read where it really
    is), and hidden names are reported.
    """
    plan: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    hidden: list[str] = []

    def add(kind: str, p: Path) -> None:
        rp = p.resolve()
        if rp not in seen:
            seen.add(rp)
            plan.append((kind, p))

    def visit(p: Path, root: Path) -> None:
        if p != root:
            if is_hidden(p.name):
                if p.suffix.lower() in _CASE_SUFFIXES and not p.is_dir():
                    report.reject(str(p), HIDDEN_REASON, HIDDEN_HINT, "hidden")
                else:
                    hidden.append(str(p))
                return
            target = leaves(p, root)
            if target is not None:
                report.reject(str(p), outside_reason(target), OUTSIDE_HINT, "outside")
                return
            if p.is_symlink():
                # Read at its real place (a link to a parent folder cannot loop).
                report.note(inner_link_note(p))
                return
        if p.is_dir():
            if lawrefbook.is_lawrefbook_folder(p):
                add("lawrefbook", p)
                return
            for child in sorted(p.iterdir()):
                visit(child, root)
            return
        suffix = p.suffix.lower()
        if suffix == ".json":
            shape = consultations.peek_shape(p)
            if shape == "lawbench-3-2":
                report.note(f"{p}: LawBench 3-2 是情景问答题（每题一条法条），不是案例来源，已跳过")
            elif shape:
                add(shape, p)
            else:
                report.reject(
                    str(p),
                    "无法识别的 JSON 文件，已跳过",
                    "调解记录请用 JSONL（每行一条），格式见 kb/templates/调解记录格式说明.md",
                    kind="unknown",
                )
        elif suffix == ".jsonl" and questions.is_question_file(p):
            add("questions", p)
        elif suffix in _COMMITTEE_SUFFIXES:
            add(suffix[1:], p)
        elif suffix in (".md", ".txt"):
            if p.name.lower().startswith(("readme", "license", "_index")):
                return
            report.note(
                f"{p}: 不是案例文件格式（支持 CSV、JSONL、DOCX、PDF 及典型案例文件夹），已跳过"
            )
        elif p.name.upper() != "LICENSE":
            report.note(f"{p}: 不是案例文件格式，已跳过")

    for path in paths:
        path = Path(path)
        if not path.exists():
            report.warn(str(path), "路径不存在", "检查路径拼写", kind="missing")
            continue
        visit(path, path)
    if hidden:
        report.note(hidden_note(hidden))
    return plan


def _iter_parsed(kind: str, path: Path, report: IngestReport) -> Iterator[ParsedCase]:
    if kind == "lawrefbook":
        yield from lawrefbook.iter_folder(path, report)
    elif kind == "lawbench-3-8":
        yield from consultations.iter_lawbench(path, report)
    elif kind == "lawyer-llama":
        yield from consultations.iter_lawyer_llama(path, report)
    elif kind == "questions":
        yield from questions.iter_questions(path, report)
    elif kind == "csv":
        yield from committee.iter_csv(path, report)
    elif kind == "jsonl":
        yield from committee.iter_jsonl(path, report)
    elif kind == "docx":
        yield from committee.iter_docx(path, report)
    elif kind == "pdf":
        yield from committee.iter_pdf(path, report)


# Sections whose citations are not claims of the case: the asker's own words.
_NOT_CLAIMS = {"问题"}
# Sections listing statutes: the text after each label is the article's text.
_LISTINGS = {"法律依据", "相关法条"}


def _citations(p: ParsedCase) -> list[Citation]:
    """Citations the case makes, each with the section and the text it quotes for it.

    A list given by the source (lawyer-llama ``laws``) replaces the 法律依据
    section it was joined into; the answer's own citations are found too.
    """
    ctx = p.cite_law or None
    found: list[Citation] = []
    for item in p.cite_list:
        first = extract_citations(item, context_law=ctx)[:1]
        found.extend(with_quotes(item, first, section="法律依据", listing=True))
    consultation = p.kind in (CONSULTATION, AI_ANSWER)
    for name, text in p.sections:
        if name in _NOT_CLAIMS or (p.cite_list and name == "法律依据"):
            continue
        cites = with_quotes(
            text,
            extract_citations(text, context_law=ctx),
            section=name,
            listing=name in _LISTINGS,
        )
        found.extend(_drop_quoted_refs(text, cites) if consultation else cites)
    return [c for c in merge_duplicates(found) if c.law]


def _drop_quoted_refs(text: str, cites: list[Citation]) -> list[Citation]:
    """Without 依照本法第四十条、第四十一条 inside quoted statute text: not the answer's citations."""
    out: list[Citation] = []
    dropped_end = -1
    for c in cites:
        own = text[max(0, c.start - 4) : c.start].endswith(_QUOTED_REF)
        follows = dropped_end >= 0 and _JOIN_ONLY.fullmatch(text[dropped_end : c.start])
        if own or follows:
            dropped_end = c.end
            continue
        out.append(c)
    return out


def case_from_parsed(p: ParsedCase, masked: Counter[str] | None = None) -> Case:
    """Anonymise, extract citations and classify one parsed case."""
    cites = _citations(p)
    anon = Anonymiser(p.parties)
    title = anon(p.title)
    # A consultation's answer repeats the asker's facts: names are looked for in
    # the question only (tagging long answers is slow), then masked everywhere.
    question_only = p.kind in (CONSULTATION, AI_ANSWER)
    sections = tuple(
        (
            name,
            body if name in _NO_MASK else anon(body, find=not question_only or name == "问题"),
        )
        for name, body in p.sections
    )
    parties = tuple(anon.mapping[x] if x in anon.mapping else anon(x) for x in p.parties)
    # A quote taken from the answer or the facts may carry a name: mask it as its section was.
    cites = [
        c
        if c.section in _NO_MASK or not c.quotes
        else dataclasses.replace(c, quotes=tuple(anon(q, find=False) for q in c.quotes))
        for c in cites
    ]
    if masked is not None:
        masked.update(anon.counts)
    dtype, origin = p.dispute_type, "metadata"
    if not dtype:
        facts = "\n".join(
            b
            for n, b in sections
            if n in ("基本案情", "问题", "要点", "裁判要旨", "关键词", "争议焦点")
        )
        dtype = classify(
            facts or "\n".join(b for _, b in sections), cites, title=title
        ).dispute_type
        origin = "classifier"
    return Case(
        id=p.id,
        kind=p.kind,
        title=title,
        dispute_type=dtype,
        sections=sections,
        cited=tuple(cites),
        source=p.source,
        date=p.date,
        region=p.region,
        parties=parties,
        dispute_type_origin=origin,
        sample=p.sample,
        file=p.file,
        line=p.line,
        provenance=p.provenance,
    )


def load_cases(
    paths: Sequence[Path] | Iterable[Path],
    *,
    report: IngestReport,
    show_progress: bool = False,
    cache_dir: Path | None = None,
) -> list[Case]:
    """Read every case source under ``paths`` (folders or files).

    Recognises LawRefBook typical-case folders, LawBench ``3-8.json`` and
    lawyer-llama ``legal_counsel_with_article*.json`` (by name or shape), and
    committee records (``*.csv``, ``*.jsonl``, ``*.docx``, ``*.pdf``) anywhere
    else. LawBench ``3-2.json`` (scenario questions) is skipped with a note.
    Text is anonymised; citations are extracted but not resolved (see
    ``link_cases``); a dispute type is assigned to every case. Problems go to
    ``report``; nothing stops the load.

    Args:
        cache_dir: when given, each input's cases are kept in
            ``cache_dir/cases/`` keyed by the input's content and this code's
            version, so an unchanged input is not parsed again.
    """
    # Labelled questions last: a question that is also a consultation case (same id)
    # is evidence already, and the case is kept.
    plan = sorted(_plan(list(paths), report), key=lambda item: item[0] == "questions")
    cases: list[Case] = []
    already_cases = 0
    # Every case id taken: where it was read and a fingerprint of its content.
    ids: dict[str, tuple[str, str]] = {}
    masked: Counter[str] = Counter()
    per_source: Counter[str] = Counter()
    reused = 0
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(desc="案例", unit="件")
    for kind, path in plan:
        report.documents += 1
        item = _cached(kind, path, cache_dir)
        if item is None:
            item = _read_item(kind, path)
            _store(kind, path, cache_dir, item)
        else:
            reused += 1
        problems = list(item.report.problems)
        report.notes.extend(item.report.notes)
        masked.update(item.masked)
        imported = 0
        for case, where in item.cases:
            if case.kind == LABELLED and case.id in ids:
                already_cases += 1
                continue
            fingerprint = _fingerprint(case)
            clash = _clash(case, fingerprint, where, ids)
            if clash is not None:
                problems.append(clash)
                continue
            ids[case.id] = (where, fingerprint)
            cases.append(case)
            imported += 1
            per_source[kind] += 1
            if bar is not None:
                bar.update(1)
        report.problems.extend(problems)
        read = item.report.read or imported + sum(p.dropped for p in problems)
        report.read += read
        report.files.append(
            FileReport.collect(
                str(path), kind, problems, read=read, imported=imported, unit=_UNITS.get(kind, "行")
            )
        )
    if bar is not None:
        bar.close()
    report.cases += len(cases)
    if per_source:
        report.note("案例来源：" + "，".join(f"{k} {v} 件" for k, v in per_source.items()))
    if already_cases:
        report.note(f"标注问题：{already_cases} 条已作为咨询案例收录（编号相同），未重复收录")
    if reused:
        report.note(f"案例缓存：{reused} 个输入未变化，未重新解析")
    if +masked:
        report.note("脱敏：" + "，".join(f"{k} {v} 处" for k, v in (+masked).most_common()))
    logger.info("loaded %d cases from %d inputs (%d from cache)", len(cases), len(plan), reused)
    return cases


def _fingerprint(case: Case) -> str:
    """The content of a case, without where it was read: equal for the same row read twice."""
    body = [case.kind, case.title, case.date, case.region, list(case.sections)]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode()).hexdigest()


def _clash(
    case: Case, fingerprint: str, where: str, ids: dict[str, tuple[str, str]]
) -> Problem | None:
    """Why ``case`` must not be taken: a case with its id came first (the same case, or another)."""
    earlier = ids.get(case.id)
    if earlier is not None and earlier[1] == fingerprint:
        return Problem(
            where,
            f"与 {earlier[0]} 的案例完全相同，未重复导入",
            "同一份记录只需导入一次；如是同一文件的两份副本，删去其中一份",
            "duplicate",
            dropped=True,
        )
    if earlier is not None:
        return Problem(
            where,
            f"案例编号 {case.id} 已由 {earlier[0]} 使用（内容不同），该条未导入",
            "同一调解组织同一年内的编号应唯一；改正编号后重新导入",
            "duplicate",
            dropped=True,
        )
    return None


# ---- per-input results and their cache -------------------------------------------

_CODE_FILES = (
    "citations.py",
    "anonymise.py",
    "names.py",
    "records.py",
    "encoding.py",
    "printable.py",
    "paths.py",
    "formats/__init__.py",
)


@dataclass
class _Item:
    """What one input (a file or a typical-case folder) yielded."""

    cases: list[tuple[Case, str]]  # (case, where it was read: path or path:line)
    report: IngestReport
    masked: Counter[str]


def _read_item(kind: str, path: Path) -> _Item:
    rep = IngestReport()
    masked: Counter[str] = Counter()
    out: list[tuple[Case, str]] = []
    seen: set[str] = set()
    for parsed in _iter_parsed(kind, path, rep):
        where = f"{parsed.file}:{parsed.line}" if parsed.line else parsed.file
        if parsed.id in seen:
            rep.reject(
                where,
                f"案例编号重复（{parsed.id}），已跳过",
                "同一来源不要导入两次",
                kind="duplicate",
            )
            continue
        seen.add(parsed.id)
        out.append((case_from_parsed(parsed, masked), where))
    return _Item(out, rep, masked)


@lru_cache(maxsize=1)
def _code_version() -> str:
    """Hash of the code that turns inputs into cases: a change invalidates the cache."""
    here = Path(__file__).parent
    files = [*sorted(here.glob("*.py")), *(here.parent / name for name in _CODE_FILES)]
    return code_digest(files)[:16]


def _content_key(kind: str, path: Path) -> str:
    h = hashlib.sha256(f"{kind}\0{_code_version()}\0".encode())
    files = (
        sorted(p for p in path.rglob("*") if p.is_file() and leaves(p, path) is None)
        if path.is_dir()
        else [path]
    )
    for f in files:
        h.update(f.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    # The absolute path is part of every case's ``file`` field.
    h.update(str(path.resolve()).encode())
    return h.hexdigest()[:32]


def _cached(kind: str, path: Path, cache_dir: Path | None) -> _Item | None:
    if cache_dir is None:
        return None
    file = cache_dir / "cases" / f"{_content_key(kind, path)}.json"
    if not file.exists():
        return None
    try:
        data = json.loads(file.read_text("utf-8"))
        return _Item(
            [(Case.from_dict(c), w) for c, w in data["cases"]],
            IngestReport(
                problems=[Problem(**p) for p in data["problems"]],
                notes=list(data["notes"]),
                read=int(data["read"]),
            ),
            Counter(data["masked"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("ignoring unreadable case cache %s", file)
        return None


def _store(kind: str, path: Path, cache_dir: Path | None, item: _Item) -> None:
    if cache_dir is None:
        return
    folder = cache_dir / "cases"
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "cases": [(c.to_dict(), w) for c, w in item.cases],
        "problems": [asdict(p) for p in item.report.problems],
        "notes": item.report.notes,
        "read": item.report.read,
        "masked": dict(item.masked),
    }
    target = folder / f"{_content_key(kind, path)}.json"
    atomic.write_text(target, json.dumps(data, ensure_ascii=False))
