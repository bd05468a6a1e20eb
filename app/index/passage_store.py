"""The local record of what is indexed: passages, their sentences and vectors, and files.

Chroma holds passage vectors for dense search (embedded or on a server); this
store keeps what the rest of the engine needs next to it: the original passage
text and metadata, sentence offsets and sentence vectors (the extractive
answerer scores sentences without embedding anything at question time), the
lexical index, and a manifest of ingested files with their content hashes.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from app.index.lexical import LexicalIndex

log = logging.getLogger(__name__)
BASELINE_SAMPLE = 4096

Span = tuple[int, int]


@dataclass
class StoredPassage:
    id: str
    source: str
    title: str
    date: str
    language: str
    chunk: int
    text: str
    sentences: list[Span]

    @property
    def searchable(self) -> str:
        """What BM25 indexes: the title is part of every passage's text."""
        return f"{self.title}\n{self.text}"


@dataclass
class FileEntry:
    sha: str
    path: str
    ids: list[str]


class PassageStore:
    def __init__(self, folder: Path, dim: int) -> None:
        self.folder = folder
        self.dim = dim
        self.passages: dict[str, StoredPassage] = {}
        self.vectors: dict[str, np.ndarray] = {}  # passage id -> (n_sentences, dim)
        self.files: dict[str, FileEntry] = {}
        self.lexical = LexicalIndex([], None)
        self._dirty = False
        self._sample: np.ndarray | None = None  # sentence vectors for `baseline`, rebuilt after writes

    # -- reading -----------------------------------------------------------
    @classmethod
    def open(cls, folder: Path, dim: int) -> "PassageStore":
        """The saved store; an unreadable or inconsistent one is set aside and starts empty,
        so the engine rebuilds it from the articles instead of answering from a mismatch."""
        store = cls(folder, dim)
        if not (folder / "manifest.json").exists():
            return store
        try:
            store._load()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            broken = folder.with_name(f"{folder.name}.broken-{int(time.time())}")
            log.warning("the index at %s is unreadable (%s); moved to %s, it will be rebuilt", folder, exc, broken)
            os.replace(folder, broken)
            return cls(folder, dim)
        return store

    def _load(self) -> None:
        folder = self.folder
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        self.files = {name: FileEntry(**entry) for name, entry in data["files"].items()}
        with (folder / "passages.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                raw = json.loads(line)
                raw["sentences"] = [tuple(s) for s in raw["sentences"]]
                raw.pop("tokens", None)  # stored by earlier versions; the lexical index re-derives them
                passage = StoredPassage(**raw)
                self.passages[passage.id] = passage
        rows = sum(len(p.sentences) for p in self.passages.values())
        matrix = np.load(folder / "sentence_vectors.npy") if self.passages else np.zeros((0, self.dim), np.float32)
        if matrix.shape != (rows, self.dim):
            raise ValueError(f"sentence vectors are {matrix.shape}, the passages need ({rows}, {self.dim})")
        if {pid for entry in self.files.values() for pid in entry.ids} != set(self.passages):
            raise ValueError("the manifest and the passages disagree")
        row = 0
        for passage in self.passages.values():
            n = len(passage.sentences)
            self.vectors[passage.id] = matrix[row : row + n]
            row += n
        lexical = LexicalIndex.load(folder / "bm25")
        if lexical is not None and set(lexical.ids) == set(self.passages):
            self.lexical = lexical
        else:
            self.lexical = self._build_lexical()
            self.lexical.save(folder / "bm25")

    def __len__(self) -> int:
        return len(self.passages)

    def baseline(self, vector: np.ndarray) -> tuple[float, float, int]:
        """Mean and spread of a query's cosine to the indexed sentences (a fixed sample of
        at most `BASELINE_SAMPLE`), and the sample's size: how close "unrelated" is for this query."""
        sample = self._sample  # read once: an upload may reset it meanwhile
        if sample is None:
            rows = [m for m in list(self.vectors.values()) if len(m)]
            sample = np.concatenate(rows) if rows else np.zeros((0, self.dim), np.float32)
            if len(sample) > BASELINE_SAMPLE:
                sample = sample[np.random.default_rng(0).choice(len(sample), BASELINE_SAMPLE, replace=False)]
            self._sample = sample
        if not len(sample):
            return 0.0, 0.0, 0
        similar = sample @ vector
        return float(similar.mean()), float(similar.std()), len(sample)

    # -- writing -----------------------------------------------------------
    def put_file(self, source: str, entry: FileEntry, passages: list[StoredPassage], vectors: list[np.ndarray]) -> list[str]:
        """Replace everything of `source` with these passages; returns the ids it dropped."""
        dropped = self.drop_file(source)
        for passage, matrix in zip(passages, vectors):
            self.passages[passage.id] = passage
            self.vectors[passage.id] = matrix.astype(np.float32)
        self.files[source] = entry
        self._dirty = True
        self._sample = None
        return dropped

    def touch(self) -> None:
        """A file entry changed in place (e.g. its path); the next commit saves it."""
        self._dirty = True

    def drop_file(self, source: str) -> list[str]:
        entry = self.files.pop(source, None)
        if entry is None:
            return []
        for pid in entry.ids:
            self.passages.pop(pid, None)
            self.vectors.pop(pid, None)
        self._dirty = True
        self._sample = None
        return entry.ids

    def commit(self) -> None:
        """Rebuild the lexical index and persist, each file replaced atomically.

        A crash between two files leaves them disagreeing; `open` notices (the manifest,
        the passages and the vectors must match) and the index is rebuilt.
        """
        if not self._dirty:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.lexical = self._build_lexical()
        self.lexical.save(self.folder / "bm25")
        _atomic_write(self.folder / "passages.jsonl", "".join(
            json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in self.passages.values()
        ))
        rows = [self.vectors[pid] for pid in self.passages]
        matrix = np.concatenate(rows) if rows else np.zeros((0, self.dim), np.float32)
        tmp = self.folder / "sentence_vectors.tmp.npy"
        np.save(tmp, matrix)
        os.replace(tmp, self.folder / "sentence_vectors.npy")
        manifest = {"dim": self.dim, "files": {k: asdict(v) for k, v in self.files.items()}}
        _atomic_write(self.folder / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        self._dirty = False

    def _build_lexical(self) -> LexicalIndex:
        ids = list(self.passages)
        return LexicalIndex.build(ids, [self.passages[i].searchable for i in ids])


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
