"""BM25 over Arabic-normalised, stemmed tokens (bm25s): a local cache derived from Chroma.

Chroma's open-source server has no sparse search (and Chroma Cloud's BM25 is
English-only), so the Arabic lexical index is ours. It is derived, never a
source: the cache in `NEWSQA_INDEX_DIR` holds each passage's tokens as ids into
one vocabulary, the BM25 model built from them, and the Chroma generation it
reflects. Refreshing after a write tokenises only the passages it has not seen
and rebuilds the BM25 matrix from the stored token ids, which is fast; deleting
the folder costs one full pass over Chroma's documents.

bm25s has no Arabic analyser, so tokens come from `app.text.arabic.lexical_tokens`
on both the index and the query side. The analyser's name is saved with the
cache: a cache made by another analyser is rebuilt.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

import bm25s
import numpy as np
from bm25s.tokenization import Tokenized

from app.index.records import StoredPassage
from app.text.arabic import lexical_tokens

log = logging.getLogger(__name__)
ANALYSER = "snowball-stems+char4grams"  # change it whenever lexical_tokens changes


class LexicalIndex:
    """Ranks passage ids by BM25; immutable once built, so readers share it freely."""

    def __init__(self, ids: list[str], model: bm25s.BM25 | None) -> None:
        self.ids = ids
        self._model = model

    def search(self, query: str, k: int, allowed: Callable[[str], bool] | None = None) -> list[tuple[str, float]]:
        tokens = lexical_tokens(query)
        if self._model is None or not tokens:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._model.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        hits = [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
        return [hit for hit in hits if allowed is None or allowed(hit[0])]


class TokenStore:
    """Each passage's lexical tokens as ids into one vocabulary: what BM25 is rebuilt from."""

    def __init__(self, vocab: dict[str, int] | None = None, docs: dict[str, np.ndarray] | None = None,
                 generation: str = "") -> None:
        self.vocab = vocab or {}
        self.docs = docs or {}
        self.generation = generation

    def add(self, passages: Iterable[StoredPassage]) -> int:
        added = 0
        for passage in passages:
            if passage.id in self.docs:
                continue
            tokens = lexical_tokens(passage.searchable)
            self.docs[passage.id] = np.fromiter((self.vocab.setdefault(t, len(self.vocab)) for t in tokens),
                                                dtype=np.int32, count=len(tokens))
            added += 1
        return added

    def keep(self, wanted: set[str]) -> int:
        gone = [pid for pid in self.docs if pid not in wanted]
        for pid in gone:
            del self.docs[pid]
        return len(gone)

    def build(self) -> LexicalIndex:
        ids = sorted(self.docs)
        if not ids:
            return LexicalIndex([], None)
        vocab = dict(self.vocab)
        vocab.setdefault("", len(vocab))  # bm25s scores a query of unknown words against it
        model = bm25s.BM25()
        model.index(Tokenized(ids=[self.docs[pid].tolist() for pid in ids], vocab=vocab), show_progress=False)
        return LexicalIndex(ids, model)

    # -- persistence (a cache: anything unreadable is simply rebuilt) -----------
    def save(self, folder: Path) -> None:
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        ids = sorted(self.docs)
        lengths = np.asarray([len(self.docs[pid]) for pid in ids], np.int64)
        tokens = np.concatenate([self.docs[pid] for pid in ids]) if ids else np.zeros(0, np.int32)
        np.save(tmp / "tokens.npy", tokens)
        np.save(tmp / "lengths.npy", lengths)
        (tmp / "state.json").write_text(json.dumps(
            {"analyser": ANALYSER, "generation": self.generation, "ids": ids, "vocab": self.vocab},
            ensure_ascii=False), encoding="utf-8")
        old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "TokenStore":
        try:
            state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
            if state.get("analyser") != ANALYSER:
                log.info("the lexical cache at %s was made by another analyser; rebuilding it", folder)
                return cls()
            tokens = np.load(folder / "tokens.npy")
            lengths = np.load(folder / "lengths.npy")
            ids = state["ids"]
            if len(ids) != len(lengths) or int(lengths.sum()) != len(tokens):
                raise ValueError("token counts disagree")
            if len(tokens) and int(tokens.max()) >= len(state["vocab"]):
                raise ValueError("token ids outside the vocabulary")
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            docs = {pid: tokens[offsets[i] : offsets[i + 1]] for i, pid in enumerate(ids)}
            return cls(dict(state["vocab"]), docs, str(state["generation"]))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the lexical cache at %s is unreadable (%s); rebuilding it from Chroma", folder, exc)
            return cls()
