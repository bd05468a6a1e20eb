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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.index.chroma import ChromaIndex
from app.index.lexical import LexicalIndex, TokenStore
from app.index.records import ArticleRecord, is_current, passage_id

log = logging.getLogger(__name__)
BASELINE_SAMPLE = 4096
FETCH = 1000  # passages per Chroma read when filling the lexical cache


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

    def baseline(self, vector: np.ndarray) -> tuple[float, float, int]:
        """Mean and spread of a query's cosine to the sampled sentences, and the sample's size."""
        if not len(self.sample):
            return 0.0, 0.0, 0
        similar = self.sample @ vector
        return float(similar.mean()), float(similar.std()), len(self.sample)


EMPTY = Snapshot("", {}, LexicalIndex([], None), np.zeros((0, 0), np.float32))


class Refresher:
    """Makes snapshots from Chroma, keeping the lexical cache in `folder` up to date."""

    def __init__(self, chroma: ChromaIndex, folder: Path) -> None:
        self.chroma = chroma
        self.folder = folder
        self._tokens: TokenStore | None = None
        self._lock = threading.Lock()  # one refresh at a time; readers never take it

    def refresh(self, current: Snapshot) -> Snapshot:
        """The snapshot for Chroma as it is now (`current` itself when nothing changed)."""
        with self._lock:
            generation = self.chroma.generation()
            if generation == current.generation:
                return current
            tokens = self._tokens if self._tokens is not None else TokenStore.load(self.folder)
            self._tokens = tokens
            records = self.chroma.article_records()
            wanted = {passage_id(r.id, chunk, r.sha) for r in records.values() for chunk in range(r.passages)}
            changed = tokens.keep(wanted)
            missing = sorted(wanted - tokens.docs.keys())
            for start in range(0, len(missing), FETCH):
                changed += tokens.add(self.chroma.fetch_passages(missing[start : start + FETCH]).values())
            if changed or tokens.generation != generation:
                tokens.generation = generation
                try:
                    tokens.save(self.folder)
                except OSError as exc:  # a cache: answering goes on without it
                    log.warning("could not save the lexical cache at %s: %s", self.folder, exc)
            sample = current.sample if changed == 0 and len(current.sample) else \
                self.chroma.sample_sentence_vectors(BASELINE_SAMPLE)
            return Snapshot(generation, records, tokens.build(), sample)
