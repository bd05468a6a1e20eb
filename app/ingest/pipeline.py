"""Ingestion: files -> clean articles -> passages -> vectors -> Chroma + passage store.

Incremental by content hash: an unchanged file is not embedded again, a changed
one replaces its old passages, `prune` drops files that are gone. A broken file
is reported and skipped; nothing already indexed is lost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from app.config import Settings
from app.index.embedders import embed_texts
from app.index.passage_store import FileEntry, PassageStore, StoredPassage
from app.index.vector_store import replace_source
from app.ingest.articles import SUPPORTED, Article, ArticleError, load_article
from app.ingest.passages import make_passages

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    passages: int = 0  # passages embedded by this run
    seconds: float = 0.0

    @property
    def ok_files(self) -> list[str]:
        return self.added + self.updated + self.unchanged

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.removed)} removed",
            f"{self.passages} passages embedded in {self.seconds:.1f}s",
        ]
        lines = [", ".join(parts)]
        lines += [f"error: {message}" for _, message in self.errors]
        return "\n".join(lines)


def collect_files(paths: Sequence[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders into their supported files; a missing path is an error, not a crash."""
    files: list[Path] = []
    errors: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED)
        elif path.is_file():
            files.append(path)
        else:
            errors.append((str(path), f"{path}: no such file or folder"))
    return files, errors


def embedding_text(title: str, text: str) -> str:
    """What a passage is embedded as: its article's title gives it context."""
    return f"{title}\n{text}" if title else text


class Ingestor:
    def __init__(
        self, settings: Settings, embedder: BaseEmbedding, vectors: ChromaVectorStore, store: PassageStore
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.vectors = vectors
        self.store = store

    def run(self, paths: Sequence[Path], prune: bool = False, progress: Progress | None = None) -> IngestReport:
        started = time.perf_counter()
        say = progress or (lambda _message: None)
        files, errors = collect_files(paths)
        report = IngestReport(errors=errors)
        for number, path in enumerate(files, start=1):
            try:
                article = load_article(path, self.settings.max_file_bytes)
            except (ArticleError, OSError) as exc:
                report.errors.append((path.name, str(exc) if isinstance(exc, ArticleError)
                                      else f"{path.name}: could not be read ({exc.strerror})"))
                continue
            known = self.store.files.get(article.source)
            where = str(path.resolve())
            if known and known.path != where and Path(known.path).exists():
                # `source` (the file name) is what citations show, so it must be unique.
                report.errors.append((path.name, f"{path.name}: another file of this name is already "
                                                 "indexed from another folder; rename one of them"))
                continue
            if known and known.sha == article.sha:
                if known.path != where:  # a moved file is the same article, not a pruned one
                    known.path = where
                    self.store.touch()
                report.unchanged.append(article.source)
                continue
            try:
                report.passages += self._index(article, path)
            except ArticleError as exc:
                report.errors.append((path.name, str(exc)))
                continue
            except Exception as exc:  # embedder or vector store: keep what is indexed, say which file failed
                log.warning("indexing %s failed", path, exc_info=True)
                report.errors.append((path.name, f"{path.name}: could not be indexed ({type(exc).__name__})"))
                continue
            (report.updated if known else report.added).append(article.source)
            if number % 25 == 0 or number == len(files):
                say(f"indexed {number}/{len(files)} files")
        if prune:
            for source, entry in list(self.store.files.items()):
                if not Path(entry.path).exists():
                    replace_source(self.vectors, self.store.drop_file(source), [])
                    report.removed.append(source)
        self.store.commit()
        report.seconds = time.perf_counter() - started
        return report

    def _index(self, article: Article, path: Path) -> int:
        drafts = make_passages(
            article.body,
            self.settings.tiktoken_encoding,
            self.settings.chunk_tokens,
            self.settings.chunk_overlap_tokens,
        )
        if not drafts:
            raise ArticleError(f"{path.name}: no sentences to index")
        passages = [
            StoredPassage(
                id=f"{article.source}#{d.index}:{article.sha[:10]}",
                source=article.source,
                title=article.title,
                date=article.date,
                language=article.language,
                chunk=d.index,
                text=d.text,
                sentences=d.sentences,
            )
            for d in drafts
        ]
        sentences = [p.text[s:e] for p in passages for s, e in p.sentences]
        matrix = embed_texts(self.embedder, [embedding_text(p.title, p.text) for p in passages] + sentences)
        passage_vectors, sentence_vectors = matrix[: len(passages)], matrix[len(passages):]
        per_passage: list[np.ndarray] = []
        row = 0
        for p in passages:
            per_passage.append(sentence_vectors[row : row + len(p.sentences)])
            row += len(p.sentences)
        nodes = [
            TextNode(
                id_=p.id,
                text=p.text,
                embedding=vector.tolist(),
                metadata={"source": p.source, "title": p.title, "date": p.date, "language": p.language, "chunk": p.chunk},
                excluded_embed_metadata_keys=["source", "title", "date", "language", "chunk"],
                excluded_llm_metadata_keys=["source", "language", "chunk"],
            )
            for p, vector in zip(passages, passage_vectors)
        ]
        old_ids = self.store.files[article.source].ids if article.source in self.store.files else []
        replace_source(self.vectors, old_ids, nodes)
        entry = FileEntry(sha=article.sha, path=str(path.resolve()), ids=[p.id for p in passages])
        self.store.put_file(article.source, entry, passages, per_passage)
        return len(passages)
