"""A corpus: the records of one kind (articles or cases), their units, and the store that searches them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Generic

import numpy as np

from ingest.cases.link import source_key
from ingest.records import LABELLED, Article, Case
from retrieval.hits import R
from retrieval.store import UnitRow, UnitStore
from retrieval.units import Unit

if TYPE_CHECKING:
    from retrieval.clauses import ClauseVectors


def article_rows(articles: Sequence[Article], units: Sequence[Unit]) -> list[UnitRow]:
    """Store rows for article units: the filter fields of each unit's article."""
    by_id = {a.id: a for a in articles}
    rows = []
    for u in units:
        a = by_id[u.parent]
        rows.append(
            UnitRow(u.id, a.id, law=a.law, level=a.level, status=a.status, current=a.current)
        )
    return rows


def case_rows(cases: Sequence[Case], units: Sequence[Unit]) -> list[UnitRow]:
    """Store rows for case units: the filter fields of each unit's case."""
    by_id = {c.id: c for c in cases}
    rows = []
    for u in units:
        c = by_id[u.parent]
        rows.append(
            UnitRow(
                u.id,
                c.id,
                dispute_type=c.dispute_type,
                kind=c.kind,
                region=c.region,
                date=c.date,
                source=source_key(c),
            )
        )
    return rows


class Corpus(Generic[R]):
    """Records in document order with their units; searching is the store's job.

    ``records`` and ``units`` live in Python (what a hit shows); ``store`` holds what is
    searched (vectors, keyword index, filter fields) and may be a server.
    """

    def __init__(
        self,
        records: Sequence[R],
        units: Sequence[Unit],
        store: UnitStore,
        clauses: ClauseVectors | None = None,
    ) -> None:
        self.records: list[R] = list(records)
        self.units: list[Unit] = list(units)
        self.store = store
        self.clauses = clauses
        """Articles' clause vectors (``retrieval.clauses``); None for cases and old indexes."""
        self._reindex()

    def _reindex(self) -> None:
        self._by_id: dict[str, R] = {r.id: r for r in self.records}
        self._units: dict[str, Unit] = {u.id: u for u in self.units}

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[R]:
        return iter(self.records)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._by_id

    def get(self, record_id: str) -> R | None:
        return self._by_id.get(record_id)

    def unit(self, unit_id: str) -> Unit | None:
        return self._units.get(unit_id)

    def upsert(
        self,
        records: Sequence[R],
        units: Sequence[Unit],
        rows: Sequence[UnitRow],
        vectors: np.ndarray,
        tokens: Sequence[Sequence[str]],
    ) -> None:
        """Add or replace records (by id) with their units; searchable at once.

        The records are in place before the store can return them, so a query running on
        another thread never meets an id it cannot show.
        """
        ids = {r.id for r in records}
        self.records = [r for r in self.records if r.id not in ids] + list(records)
        self.units = [u for u in self.units if u.parent not in ids] + list(units)
        self._reindex()
        self.store.delete(sorted(ids))
        self.store.upsert(rows, vectors, tokens)

    def remove(self, record_ids: Sequence[str]) -> None:
        """Remove records: first from the store (no query finds them), then from memory."""
        gone = set(record_ids)
        self.store.delete(sorted(gone))
        self.records = [r for r in self.records if r.id not in gone]
        self.units = [u for u in self.units if u.parent not in gone]
        self._reindex()


class CaseCorpus(Corpus[Case]):
    """Cases, and which cases cite each article."""

    def _reindex(self) -> None:
        super()._reindex()
        self._citing: dict[str, list[Case]] = {}
        for c in self.records:
            if c.kind == LABELLED:  # evidence for ranking only, never listed as a case
                continue
            for aid in dict.fromkeys(c.cited_ids):
                self._citing.setdefault(aid, []).append(c)

    def citing(self, article_id: str) -> list[Case]:
        """Cases whose citations resolve to ``article_id``, in corpus order."""
        return list(self._citing.get(article_id, []))
