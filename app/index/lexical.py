"""BM25 over Arabic-normalised, stemmed tokens (bm25s), persisted beside Chroma.

bm25s has no Arabic analyser, so tokens come from `app.text.arabic.lexical_tokens`
on both the index and the query side. The analyser's name is saved with the
index: an index built by another analyser is rebuilt from the passages' text.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import bm25s

from app.text.arabic import lexical_tokens

log = logging.getLogger(__name__)
ANALYSER = "snowball-stems+char4grams"  # change it whenever lexical_tokens changes


class LexicalIndex:
    """Ranks passage ids by BM25; positions map to the ids it was built with."""

    def __init__(self, ids: list[str], model: bm25s.BM25 | None) -> None:
        self.ids = ids
        self._model = model

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> "LexicalIndex":
        if not ids:
            return cls([], None)
        model = bm25s.BM25()
        model.index([lexical_tokens(text) for text in texts], show_progress=False)
        return cls(list(ids), model)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ids.json").write_text(json.dumps({"analyser": ANALYSER, "ids": self.ids}), encoding="utf-8")
        if self._model is not None:
            self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex | None":
        ids_file = folder / "ids.json"
        if not ids_file.exists():
            return None
        try:
            saved = json.loads(ids_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("lexical index at %s is unreadable (%s); it will be rebuilt", folder, exc)
            return None
        if not isinstance(saved, dict) or saved.get("analyser") != ANALYSER:
            log.info("lexical index at %s was built by another analyser; it will be rebuilt", folder)
            return None
        ids = saved["ids"]
        if not ids:
            return cls([], None)
        try:
            model = bm25s.BM25.load(str(folder), mmap=False, show_progress=False)
        except (OSError, ValueError) as exc:
            log.warning("lexical index at %s is unreadable (%s); it will be rebuilt", folder, exc)
            return None
        return cls(ids, model)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        tokens = lexical_tokens(query)
        if self._model is None or not tokens:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._model.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
