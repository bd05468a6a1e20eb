"""A consistent, immutable view of the index for readers, and how the next one is made.

Questions read the current `Snapshot` without a lock: the article records (which
rows are current), the BM25 index and a sample of sentence vectors for the
not-found baseline. A refresh (after this process writes, or when another
process changed Chroma's generation) builds the next snapshot aside and swaps
the reference; a question that started on the old one finishes on it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from app.filters import Filters, day_number
from app.index.chroma import ChromaIndex, IndexUnavailable
from app.index.lexical import LexicalIndex, TermCounts
from app.index.records import ArticleRecord, is_current, parse_passage_id, passage_id

log = logging.getLogger(__name__)
BASELINE_SAMPLE = 4096
FETCH = 1000  # passages per Chroma read when filling the lexical cache
RESAMPLE_CHANGE = 0.1
SAVE_EVERY_S = 30.0
READ_ATTEMPTS = 3
RETRY_PAUSE_S = 0.2


@dataclass(frozen=True)
class _Rows:
    """Per BM25 row, worked out once per snapshot: is it current, its article's day number, and
    its publisher's and article's codes (what a filter compares, vectorised)."""

    current: np.ndarray
    days: np.ndarray
    publishers: np.ndarray
    articles: np.ndarray
    publisher_codes: dict[str, int]
    article_codes: dict[str, int]


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
        rows = self._rows
        keep = rows.current.copy()
        if filters.days:
            keep &= (rows.days >= filters.days[0]) & (rows.days <= filters.days[1])
        if filters.publishers:
            keep &= np.isin(rows.publishers, [rows.publisher_codes[n] for n in filters.publishers
                                              if n in rows.publisher_codes])
        if filters.excluded:
            keep &= ~np.isin(rows.articles, [rows.article_codes[a] for a in filters.excluded if a in rows.article_codes])
        return keep.astype(np.float32)

    @cached_property
    def _rows(self) -> _Rows:
        names: dict[str, int] = {}
        articles: dict[str, int] = {}
        current, days, publishers, owners = [], [], [], []
        for pid in self.lexical.ids:
            article = parse_passage_id(pid)[0]
            record = self.articles.get(article)
            current.append(record is not None and record.owns(pid))
            days.append(day_number(record.date) if record else 0)
            publishers.append(names.setdefault(record.publisher if record else "", len(names)))
            owners.append(articles.setdefault(article, len(articles)))
        return _Rows(np.asarray(current, bool), np.asarray(days, np.int64), np.asarray(publishers, np.int64),
                     np.asarray(owners, np.int64), names, articles)

    def baseline(self, vector: np.ndarray) -> tuple[float, float, int]:
        """Mean and spread of a query's cosine to the sampled sentences, and the sample's size.

        From the sample's first and second moments (worked out once per snapshot): a 384 x 384
        product per question instead of one with every sampled sentence (4,096 x 384)."""
        if not len(self.sample):
            return 0.0, 0.0, 0
        mean_vector, second = self._moments
        v = vector.astype(np.float64)
        mean = float(mean_vector @ v)
        return mean, float(np.sqrt(max(float(v @ second @ v) - mean * mean, 0.0))), len(self.sample)

    @cached_property
    def _moments(self) -> tuple[np.ndarray, np.ndarray]:
        """The sample's mean vector and its uncentred second-moment matrix, in float64."""
        sample = self.sample.astype(np.float64)
        return sample.mean(axis=0), sample.T @ sample / len(sample)


EMPTY = Snapshot("", {}, LexicalIndex([], None), np.zeros((0, 0), np.float32))


class Refresher:
    """Makes snapshots from Chroma, keeping the lexical cache in `folder` up to date.

    Saving the cache rewrites it whole (hundreds of MB at 15,000 articles), so
    during a long upload it is saved at most every `SAVE_EVERY_S`; a process
    that starts from an older cache only fetches and tokenises the difference.
    The article records and the baseline sample are saved beside it (`view`):
    a process starting on an index nobody changed since reads nothing from
    Chroma but its generation (reading 15,000 records and sampling the
    sentence vectors took seconds of every cold `ask`).
    """

    def __init__(self, chroma: ChromaIndex, folder: Path) -> None:
        self.chroma = chroma
        self.folder = folder
        self.view = folder.with_name(f"{folder.name}.view.npz")
        self._terms: TermCounts | None = None
        self._made: Snapshot | None = None  # the last snapshot made: what `_save` writes beside the counts
        self._unsaved = False
        self._saved_at: float | None = None  # the first refresh of a process saves at once
        self._lock = threading.Lock()  # one refresh at a time; readers never take it

    def refresh(self, current: Snapshot, save_now: bool = False) -> Snapshot:
        """The snapshot for Chroma as it is now (`current` itself when nothing changed); `save_now`
        writes the cache even within `SAVE_EVERY_S` (the end of an ingest: the next process
        starts from it). A read that fails is tried again, twice: reading pages of an embedded
        Chroma while another process writes to it can fail once ("Error finding id"); a refresh
        is safe to repeat, and an index that stays unreadable still raises `IndexUnavailable`."""
        with self._lock:
            for attempt in range(1, READ_ATTEMPTS):
                try:
                    return self._refresh(current, save_now)
                except IndexUnavailable as exc:
                    log.info("reading the index failed (%s); trying again", exc)
                    time.sleep(RETRY_PAUSE_S * attempt)
            return self._refresh(current, save_now)

    def _refresh(self, current: Snapshot, save_now: bool) -> Snapshot:
        generation = self.chroma.generation()
        if generation == current.generation:
            self._save(save_now)
            return current
        if self._terms is None:
            self._terms = TermCounts.load(self.folder)
            if self._terms.generation == generation and (saved := load_view(self.view, generation)):
                self._made = Snapshot(generation, saved[0], self._terms.build(), saved[1])
                return self._made
            self._unsaved = True  # the counts or the view are missing or stale: save both once made
        terms = self._terms
        records = self.chroma.article_records()
        wanted = {passage_id(r.id, chunk, r.sha) for r in records.values() for chunk in range(r.passages)}
        changed = terms.keep(wanted)
        missing = sorted(pid for pid in wanted if pid not in terms)
        for start in range(0, len(missing), FETCH):
            changed += terms.add(self.chroma.fetch_passages(missing[start : start + FETCH]).values())
        lexical = terms.build()
        self._made = Snapshot(generation, records, lexical, self._sample(current, len(lexical.ids)))
        if changed or terms.generation != generation:
            terms.generation = generation
            self._unsaved = True
        self._save(save_now)
        return self._made

    def _sample(self, current: Snapshot, passages: int) -> np.ndarray:
        """The baseline sample, taken again when the index grew or shrank by a tenth or more."""
        if len(current.sample) and abs(passages - current.passages) <= RESAMPLE_CHANGE * max(current.passages, 1):
            return current.sample
        return self.chroma.sample_sentence_vectors(BASELINE_SAMPLE)

    def _save(self, now: bool = False) -> None:
        """Write the cache if it changed, at once the first time, then at most every `SAVE_EVERY_S`."""
        if not self._unsaved or self._terms is None:
            return
        if not now and self._saved_at is not None and time.monotonic() - self._saved_at < SAVE_EVERY_S:
            return
        try:
            self._terms.save(self.folder)
            if self._made is not None and self._made.generation == self._terms.generation:
                save_view(self.view, self._made)
        except OSError as exc:  # a cache: answering goes on without it
            log.warning("could not save the lexical cache at %s: %s", self.folder, exc)
        self._unsaved = False
        self._saved_at = time.monotonic()


def save_view(path: Path, snapshot: Snapshot) -> None:
    """The snapshot's records and sample in one file, replaced whole (readers see old or new)."""
    records = json.dumps({"generation": snapshot.generation,
                          "records": [dataclasses.asdict(r) for r in snapshot.articles.values()]}, ensure_ascii=False)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}.npz")
    np.savez(tmp, records=np.frombuffer(records.encode("utf-8"), np.uint8), sample=snapshot.sample)
    os.replace(tmp, path)


def load_view(path: Path, generation: str) -> tuple[dict[str, ArticleRecord], np.ndarray] | None:
    """The saved records and sample if they are of `generation`; None (so: read Chroma) otherwise."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            state = json.loads(saved["records"].tobytes().decode("utf-8"))
            if state["generation"] != generation:
                return None
            records = {r["id"]: ArticleRecord(**r) for r in state["records"]}
            return records, np.asarray(saved["sample"], np.float32)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        log.warning("the saved snapshot at %s is unreadable (%s); reading Chroma", path, exc)
        return None
