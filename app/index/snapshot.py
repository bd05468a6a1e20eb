"""A consistent, immutable view of the index for readers, and how the next one is made.

Questions read the current `Snapshot` without a lock: the article records (which
rows are current), the BM25 index and a sample of sentence vectors for the
not-found baseline. A refresh (after this process writes, or when another
process changed Chroma's generation) builds the next snapshot aside and swaps
the reference; a question that started on the old one finishes on it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from app.filters import Filters, day_number
from app.index.chroma import ChromaIndex
from app.index.lexical import LexicalIndex, TermCounts
from app.index.records import ArticleRecord, is_current, parse_passage_id, passage_id

log = logging.getLogger(__name__)
BASELINE_SAMPLE = 4096
FETCH = 1000  # passages per Chroma read when filling the lexical cache
RESAMPLE_CHANGE = 0.1
SAVE_EVERY_S = 30.0


@dataclass(frozen=True)
class Snapshot:
    generation: str
    articles: dict[str, ArticleRecord]
    lexical: LexicalIndex
    sample: np.ndarray  # sentence vectors across the index: how close "unrelated" is

    @property
    def passages(self) -> int:
        return len(self.lexical.ids)

    def owns(self, pid: str) -> bool:
        """True for a row of an article's current version (not a stale or uncommitted one)."""
        return is_current(pid, self.articles)

    def rows_admitted(self, filters: Filters) -> np.ndarray:
        """A 0/1 weight per BM25 row: current, and of an article `filters` admits. Vectorised over
        the rows' articles (worked out once per snapshot), so a filter costs no Python loop per row."""
        current, days, publishers, names = self._rows
        keep = current.copy()
        if filters.days:
            keep &= (days >= filters.days[0]) & (days <= filters.days[1])
        if filters.publishers:
            wanted = [names[name] for name in filters.publishers if name in names]
            keep &= np.isin(publishers, wanted)
        return keep.astype(np.float32)

    @cached_property
    def _rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
        """Per BM25 row: is it current, its article's day number and publisher code; the codes."""
        names: dict[str, int] = {}
        current, days, publishers = [], [], []
        for pid in self.lexical.ids:
            record = self.articles.get(parse_passage_id(pid)[0])
            current.append(record is not None and record.owns(pid))
            days.append(day_number(record.date) if record else 0)
            publishers.append(names.setdefault(record.publisher if record else "", len(names)))
        return (np.asarray(current, bool), np.asarray(days, np.int64), np.asarray(publishers, np.int64), names)

    def baseline(self, vector: np.ndarray) -> tuple[float, float, int]:
        """Mean and spread of a query's cosine to the sampled sentences, and the sample's size."""
        if not len(self.sample):
            return 0.0, 0.0, 0
        similar = self.sample @ vector
        return float(similar.mean()), float(similar.std()), len(self.sample)


EMPTY = Snapshot("", {}, LexicalIndex([], None), np.zeros((0, 0), np.float32))


class Refresher:
    """Makes snapshots from Chroma, keeping the lexical cache in `folder` up to date.

    Saving the cache rewrites it whole (hundreds of MB at 15,000 articles), so
    during a long upload it is saved at most every `SAVE_EVERY_S`; a process
    that starts from an older cache only fetches and tokenises the difference.
    """

    def __init__(self, chroma: ChromaIndex, folder: Path) -> None:
        self.chroma = chroma
        self.folder = folder
        self._terms: TermCounts | None = None
        self._unsaved = False
        self._saved_at: float | None = None  # the first refresh of a process saves at once
        self._lock = threading.Lock()  # one refresh at a time; readers never take it

    def refresh(self, current: Snapshot) -> Snapshot:
        """The snapshot for Chroma as it is now (`current` itself when nothing changed)."""
        with self._lock:
            generation = self.chroma.generation()
            if generation == current.generation:
                self._save()
                return current
            terms = self._terms if self._terms is not None else TermCounts.load(self.folder)
            self._terms = terms
            records = self.chroma.article_records()
            wanted = {passage_id(r.id, chunk, r.sha) for r in records.values() for chunk in range(r.passages)}
            changed = terms.keep(wanted)
            missing = sorted(pid for pid in wanted if pid not in terms)
            for start in range(0, len(missing), FETCH):
                changed += terms.add(self.chroma.fetch_passages(missing[start : start + FETCH]).values())
            if changed or terms.generation != generation:
                terms.generation = generation
                self._unsaved = True
                self._save()
            lexical = terms.build()
            return Snapshot(generation, records, lexical, self._sample(current, len(lexical.ids)))

    def _sample(self, current: Snapshot, passages: int) -> np.ndarray:
        """The baseline sample, taken again when the index grew or shrank by a tenth or more."""
        if len(current.sample) and abs(passages - current.passages) <= RESAMPLE_CHANGE * max(current.passages, 1):
            return current.sample
        return self.chroma.sample_sentence_vectors(BASELINE_SAMPLE)

    def _save(self) -> None:
        """Write the cache if it changed, at once the first time, then at most every `SAVE_EVERY_S`."""
        if not self._unsaved or self._terms is None:
            return
        if self._saved_at is not None and time.monotonic() - self._saved_at < SAVE_EVERY_S:
            return
        try:
            self._terms.save(self.folder)
        except OSError as exc:  # a cache: answering goes on without it
            log.warning("could not save the lexical cache at %s: %s", self.folder, exc)
        self._unsaved = False
        self._saved_at = time.monotonic()
