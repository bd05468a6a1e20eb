"""BM25 over Arabic-normalised, stemmed tokens (bm25s): a local cache derived from Chroma.

Chroma's open-source server has no sparse search (and Chroma Cloud's BM25 is
English-only), so the Arabic lexical index is ours. It is derived, never a
source: the cache in `NEWSQA_INDEX_DIR` holds each passage's term counts (one
sparse passages x vocabulary matrix), the bm25s model built from them, and the
Chroma generation they reflect. A process starts by memory-mapping the saved
model; a refresh after a write tokenises only the passages it has not seen,
drops the rows of those gone, and rebuilds the model from the counts.

The rebuild is vectorised here rather than left to `bm25s.BM25.index`, whose
per-document Python loops and list-of-lists input took about a minute and
several GB at 15,000 articles; `bm25_from_counts` computes the same scores
(bm25s's default "lucene" variant; a test checks them against `index`) with
a few sparse-matrix operations, and bm25s still does the retrieval, saving and
loading.

bm25s has no Arabic analyser, so tokens come from `app.text.arabic.lexical_tokens`
on both the index and the query side. The analyser's name is saved with the
cache: a cache made by another analyser is rebuilt.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import bm25s
import numpy as np
import scipy.sparse as sp

from app.index.records import StoredPassage
from app.text.arabic import lexical_tokens
from app.text.bilingual import with_arabic_forms

log = logging.getLogger(__name__)
ANALYSER = "snowball-stems+char4grams"  # change it whenever lexical_tokens changes
EMPTY_TOKEN = ""  # bm25s scores a query of unknown words against it; id 0, in no passage


class LexicalIndex:
    """Ranks passage ids by BM25; immutable once built, so readers share it freely."""

    def __init__(self, ids: list[str], model: bm25s.BM25 | None) -> None:
        self.ids = ids
        self._model = model

    def knows(self, token: str) -> bool:
        """Whether some passage holds this lexical token (a stem or a padded 4-gram)."""
        return self._model is not None and token in self._model.vocab_dict

    def search(self, query: str, k: int, allowed: Callable[[str], bool] | None = None,
               weights: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The top `k` rows; `weights` (0/1 per row) restricts the ranking itself, so a filter
        still returns `k` rows, while `allowed` only drops rows from the top `k` (stale ones).
        An English query also matches the Arabic of its names and words (`with_arabic_forms`):
        BM25 is otherwise blind to it."""
        tokens = lexical_tokens(with_arabic_forms(query, self.knows))
        if self._model is None or not tokens:
            return []
        k = min(k, len(self.ids))
        # n_threads=0: in this thread (any other count starts a thread pool for the one query).
        docs, scores = self._model.retrieve([tokens], k=k, show_progress=False, n_threads=0, weight_mask=weights)
        hits = [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
        return [hit for hit in hits if allowed is None or allowed(hit[0])]


def bm25_from_counts(counts: sp.csr_matrix, vocab: dict[str, int], k1: float = 1.5, b: float = 0.75) -> bm25s.BM25:
    """The bm25s model `index` would build for these term counts (rows: passages)."""
    documents = counts.shape[0]
    lengths = np.asarray(counts.sum(axis=1), np.float64).ravel()  # tokens per passage, repeats counted
    frequency = np.bincount(counts.indices, minlength=counts.shape[1])  # passages holding each term
    idf = np.where(frequency > 0, np.log(1 + (documents - frequency + 0.5) / (frequency + 0.5)), 0.0)
    norm = (k1 * (1 - b + b * lengths / max(lengths.mean(), 1e-9))).astype(np.float32)  # per passage
    tf = np.asarray(counts.data, np.float32)
    scores = idf.astype(np.float32)[counts.indices] * tf / (tf + np.repeat(norm, np.diff(counts.indptr)))
    by_term = sp.csr_matrix((scores, counts.indices, counts.indptr), shape=counts.shape).tocsc()
    model = bm25s.BM25(k1=k1, b=b)  # method "lucene", as the scores above
    model.scores = {"data": by_term.data, "indices": by_term.indices.astype(np.int32),
                    "indptr": by_term.indptr, "num_docs": documents}
    model.vocab_dict = vocab
    model.nonoccurrence_array = None  # lucene needs none
    model.unique_token_ids_set = set(vocab.values())
    return model


class TermCounts:
    """Each passage's lexical term counts as rows of one sparse matrix: what BM25 is built from."""

    def __init__(self, ids: list[str] | None = None, vocab: dict[str, int] | None = None,
                 counts: sp.csr_matrix | None = None, generation: str = "", model: bm25s.BM25 | None = None) -> None:
        self.ids = ids or []
        self.vocab = vocab or {EMPTY_TOKEN: 0}
        self.counts = counts if counts is not None else sp.csr_matrix((0, len(self.vocab)), dtype=np.float32)
        self.generation = generation
        self._known = set(self.ids)
        self._model = model  # built from exactly these counts, or None once they change
        # A built model reads this very dict (bm25s keeps it), and published snapshots keep their
        # model: new terms then go into a copy, or a reader's query would get ids its model lacks.
        self._vocab_shared = model is not None

    def __contains__(self, pid: str) -> bool:
        return pid in self._known

    def add(self, passages: Iterable[StoredPassage]) -> int:
        ids: list[str] = []
        seen: set[str] = set()
        terms: list[np.ndarray] = []
        repeats: list[np.ndarray] = []
        if self._vocab_shared:
            self.vocab, self._vocab_shared = dict(self.vocab), False
        for passage in passages:
            if passage.id in self._known or passage.id in seen:
                continue
            seen.add(passage.id)
            tokens = np.fromiter((self.vocab.setdefault(t, len(self.vocab)) for t in lexical_tokens(passage.searchable)),
                                 dtype=np.int32)
            unique, count = np.unique(tokens, return_counts=True)
            ids.append(passage.id)
            terms.append(unique)
            repeats.append(count)
        if not ids:
            return 0
        indptr = np.concatenate([[0], np.cumsum([len(t) for t in terms])])
        new = sp.csr_matrix((np.concatenate(repeats).astype(np.float32), np.concatenate(terms), indptr),
                            shape=(len(ids), len(self.vocab)))
        old = self.counts
        old = sp.csr_matrix((old.data, old.indices, old.indptr), shape=(old.shape[0], len(self.vocab)))
        self.counts = sp.vstack([old, new], format="csr")
        self.ids += ids
        self._known.update(ids)
        self._model = None
        return len(ids)

    def keep(self, wanted: set[str]) -> int:
        """Drop the passages not in `wanted`; returns how many went."""
        mask = np.fromiter((pid in wanted for pid in self.ids), dtype=bool, count=len(self.ids))
        gone = int((~mask).sum())
        if gone:
            self.counts = self.counts[mask]
            self.ids = [pid for pid, keep in zip(self.ids, mask) if keep]
            self._known = set(self.ids)
            self._model = None
        return gone

    def build(self) -> LexicalIndex:
        if not self.ids:
            return LexicalIndex([], None)
        if self._model is None:
            self._model = bm25_from_counts(self.counts, self.vocab)
            self._vocab_shared = True
        return LexicalIndex(list(self.ids), self._model)

    # -- persistence (a cache: anything unreadable is simply rebuilt) -----------
    def save(self, folder: Path) -> None:
        self.build()
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name in ("data", "indices", "indptr"):
            np.save(tmp / f"counts.{name}.npy", getattr(self.counts, name))
        if self._model is not None:
            self._model.save(tmp / "bm25")  # also the vocabulary, which `load` takes from it
        else:
            (tmp / "bm25").mkdir()
            (tmp / "bm25" / "vocab.index.json").write_text(json.dumps(self.vocab), encoding="utf-8")
        (tmp / "state.json").write_text(json.dumps(
            {"analyser": ANALYSER, "generation": self.generation, "ids": self.ids}, ensure_ascii=False),
            encoding="utf-8")
        old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> TermCounts:
        """The saved counts and model, memory-mapped (a replaced folder stays readable while mapped)."""
        try:
            state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
            if state.get("analyser") != ANALYSER:
                log.info("the lexical cache at %s was made by another analyser; rebuilding it", folder)
                return cls()
            ids = list(state["ids"])
            if ids:
                model = bm25s.BM25.load(folder / "bm25", mmap=True, show_progress=False)
                vocab = model.vocab_dict
            else:
                model, vocab = None, json.loads((folder / "bm25" / "vocab.index.json").read_text(encoding="utf-8"))
            data, indices, indptr = (np.load(folder / f"counts.{name}.npy", mmap_mode="r")
                                     for name in ("data", "indices", "indptr"))
            # Cheap checks only (a truncated or foreign file): scanning every term id would read
            # hundreds of MB at each start of a 15,000-article index.
            if len(indptr) != len(ids) + 1 or int(indptr[-1]) != len(indices) or len(indices) != len(data):
                raise ValueError("passage counts disagree")
            if model is not None and model.scores["num_docs"] != len(ids):
                raise ValueError("the BM25 model is not of these passages")
            counts = sp.csr_matrix((data, indices, indptr), shape=(len(ids), len(vocab)))
            return cls(ids, vocab, counts, str(state["generation"]), model)
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the lexical cache at %s is unreadable (%s); rebuilding it from Chroma", folder, exc)
            return cls()
