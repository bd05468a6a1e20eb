"""Ingestion: files and archives -> articles -> passages -> vectors -> Chroma, in batches.

It streams: articles are read one at a time and written to Chroma in batches
of about `NEWSQA_INGEST_BATCH` passages (seconds of embedding each), so a killed
ingest loses at most the batch in flight and running it again resumes: what a
batch committed is found in Chroma by content hash and not embedded again.
Passage and sentence rows are content-addressed, so a re-run writes no
duplicates, and the rows of an older version of an article are removed when
the new one is written (see `app.index.chroma`).

What is embedded: each passage with its article's title in front (the dense
signal), and each distinct sentence once (the extractive answerer and the
best-sentence signal; overlapping passages share sentences, embedded once).
Deriving a passage's vector from its sentences' instead would halve the
embedding work, but cost retrieval quality on ARCD (dense hit@1 0.658 -> 0.596,
hybrid 0.758 -> 0.736, measured with `python -m app eval --squad`), so both
are embedded, in one call per batch.

A broken file or record is reported and skipped; nothing already indexed is lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.config import Settings
from app.index.chroma import ArticleRows, ChromaIndex, IndexUnavailable
from app.index.embedders import EmbedderUnavailable, embed_texts
from app.index.records import ArticleRecord, StoredPassage, passage_id
from app.ingest.archive import count_records, read_archive
from app.ingest.articles import ARCHIVES, SUPPORTED, Article, ArticleError, load_article
from app.ingest.passages import PassageDraft, make_passages

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding  # llama-index: slow to import

log = logging.getLogger(__name__)


@dataclass
class IngestStatus:
    """Where a running ingest stands, for a progress bar or a log line."""

    done: int = 0  # articles read (indexed, unchanged or refused)
    skipped: int = 0  # of those, unchanged or refused: they cost next to nothing
    total: int = 0
    passages: int = 0  # passages embedded so far
    started: float = field(default_factory=time.perf_counter)

    @property
    def rate(self) -> float:
        return self.passages / max(time.perf_counter() - self.started, 1e-9)

    def line(self) -> str:
        # Timed over the articles that were embedded: a resumed ingest first runs through thousands
        # of unchanged ones in seconds, which would make the rest look minutes long instead of hours.
        elapsed = time.perf_counter() - self.started
        worked = self.done - self.skipped
        eta = elapsed / worked * max(self.total - self.done, 0) if worked else 0.0
        return (f"{self.done}/{self.total} articles, {self.passages} passages embedded, "
                f"{self.rate:.1f} passages/s, ETA {_duration(eta)}")


Progress = Callable[[IngestStatus], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file name, message)
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
        return "\n".join([", ".join(parts), *(f"error: {message}" for _, message in self.errors)])


@dataclass
class _Prepared:
    article: Article
    drafts: list[PassageDraft]
    updates: bool  # replaces an indexed version


def collect_files(paths: Sequence[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders into their articles and archives; a missing path is an error, not a crash."""
    kinds = SUPPORTED + ARCHIVES
    files: list[Path] = []
    errors: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in kinds)
        elif path.is_file():
            files.append(path)
        else:
            errors.append((path.name, f"{path.name}: no such file or folder"))
    return files, errors


class Ingestor:
    def __init__(self, settings: Settings, embedder: BaseEmbedding, chroma: ChromaIndex) -> None:
        self.settings = settings
        self.embedder = embedder
        self.chroma = chroma

    def run(self, paths: Sequence[Path], prune: bool = False, progress: Progress | None = None) -> IngestReport:
        say = progress or (lambda _status: None)
        files, errors = collect_files(paths)
        report = IngestReport(errors=errors)
        status = IngestStatus(total=sum(count_records(p) if p.suffix.lower() in ARCHIVES else 1 for p in files))
        known = self.chroma.article_records()
        seen: dict[str, str] = {}  # article id -> sha, for this run
        pending: list[_Prepared] = []
        for name, item in self._articles(files):
            status.done += 1
            if isinstance(item, ArticleError):
                report.errors.append((name, str(item)))
                status.skipped += 1
                continue
            prepared = self._consider(name, item, known, seen, report)
            if prepared is None:
                status.skipped += 1
            else:
                pending.append(prepared)
                if sum(len(p.drafts) for p in pending) >= self.settings.ingest_batch:
                    self._commit(pending, known, report, status)
                    pending = []
            say(status)
        self._commit(pending, known, report, status)
        if prune:
            self._prune(known, files, seen, report)
        say(status)
        report.seconds = time.perf_counter() - status.started
        return report

    def _articles(self, files: list[Path]) -> Iterator[tuple[str, Article | ArticleError]]:
        for path in files:
            if path.suffix.lower() in ARCHIVES:
                try:
                    for item in read_archive(path, self.settings.max_file_bytes):
                        yield path.name, item
                except OSError as exc:
                    yield path.name, ArticleError(f"{path.name}: could not be read ({exc.strerror})")
                continue
            try:
                yield path.name, load_article(path, self.settings.max_file_bytes)
            except ArticleError as exc:
                yield path.name, exc
            except OSError as exc:
                yield path.name, ArticleError(f"{path.name}: could not be read ({exc.strerror})")

    def _consider(self, name: str, article: Article, known: dict[str, ArticleRecord], seen: dict[str, str],
                  report: IngestReport) -> _Prepared | None:
        """The article to embed, or None when it is unchanged or refused (recorded in the report)."""
        if article.source in seen:
            if seen[article.source] != article.sha:
                report.errors.append((name, f"{name}: a second article with the id {article.source} in this run"))
            return None
        seen[article.source] = article.sha
        record = known.get(article.source)
        if record and record.origin != article.origin and Path(record.origin).exists() and record.sha != article.sha:
            # The id is what citations show, so it must name one article.
            log.info("%s: %s is already indexed from %s", article.origin, article.source, record.origin)
            report.errors.append((name, f"{name}: another article with the id {article.source} is already "
                                        f"indexed from {Path(record.origin).name}; rename one of them"))
            return None
        if record and record.sha == article.sha:
            if record.origin != article.origin:  # a moved file is the same article, not a pruned one
                self.chroma.set_origin(article.source, article.origin)
                known[article.source] = replace(record, origin=article.origin)
            report.unchanged.append(article.source)
            return None
        drafts = make_passages(article.body, self.settings.tiktoken_encoding, self.settings.chunk_tokens,
                               self.settings.chunk_overlap_tokens)
        if not drafts:
            report.errors.append((name, f"{name}: no sentences to index"
                                  + ("" if name == article.source else f" in {article.source}")))
            return None
        return _Prepared(article, drafts, updates=record is not None)

    def _commit(self, batch: list[_Prepared], known: dict[str, ArticleRecord], report: IngestReport,
                status: IngestStatus) -> None:
        if not batch:
            return
        try:
            rows = self._embed(batch)
            superseded = set(self.chroma.write(rows))
        except Exception as exc:  # embedder or store: keep what is indexed, say which articles failed
            log.warning("a batch of %d articles failed", len(batch), exc_info=True)
            # Unavailability is the operator's to fix, and its message says where; other errors are bugs.
            reason = str(exc) if isinstance(exc, (EmbedderUnavailable, IndexUnavailable)) else type(exc).__name__
            for prepared in batch:
                report.errors.append((prepared.article.source,
                                      f"{prepared.article.source}: could not be indexed ({reason})"))
            return
        for prepared, article_rows in zip(batch, rows):
            source = prepared.article.source
            if source in superseded:
                report.errors.append((source, f"{source}: another writer indexed a different version meanwhile"))
                continue
            known[source] = article_rows.record
            (report.updated if prepared.updates else report.added).append(source)
            report.passages += len(prepared.drafts)
            status.passages += len(prepared.drafts)

    def _embed(self, batch: list[_Prepared]) -> list[ArticleRows]:
        """Embed the batch's passages (titled) and distinct sentences in one call."""
        texts: list[str] = []
        layout: list[tuple[list[int], dict[tuple[int, int], int]]] = []
        for prepared in batch:
            article = prepared.article
            passage_rows = []
            for draft in prepared.drafts:
                passage_rows.append(len(texts))
                texts.append(f"{article.title}\n{draft.text}" if article.title else draft.text)
            sentence_rows: dict[tuple[int, int], int] = {}
            for draft in prepared.drafts:
                for start, end in draft.sentences:
                    span = (draft.start + start, draft.start + end)
                    if span not in sentence_rows:
                        sentence_rows[span] = len(texts)
                        texts.append(article.body[span[0] : span[1]])
            layout.append((passage_rows, sentence_rows))
        matrix = embed_texts(self.embedder, texts)
        return [self._rows(prepared, matrix, *rows) for prepared, rows in zip(batch, layout)]

    @staticmethod
    def _rows(prepared: _Prepared, matrix: np.ndarray, passage_rows: list[int],
              sentence_rows: dict[tuple[int, int], int]) -> ArticleRows:
        article = prepared.article
        passages, sentence_vectors = [], []
        for draft in prepared.drafts:
            sentence_vectors.append(matrix[[sentence_rows[(draft.start + s, draft.start + e)] for s, e in draft.sentences]])
            passages.append(StoredPassage(
                id=passage_id(article.source, draft.index, article.sha), source=article.source,
                title=article.title, date=article.date, language=article.language, chunk=draft.index,
                text=draft.text, sentences=draft.sentences, publisher=article.publisher, url=article.url,
            ))
        record = ArticleRecord(
            id=article.source, sha=article.sha, origin=article.origin, title=article.title, date=article.date,
            passages=len(passages), url=article.url, publisher=article.publisher, author=article.author,
        )
        return ArticleRows(record, passages, matrix[passage_rows], sentence_vectors, article.language)

    def _prune(self, known: dict[str, ArticleRecord], files: list[Path], seen: dict[str, str],
               report: IngestReport) -> None:
        """Drop articles whose file is gone, or whose archive (read whole in this run) no longer has them;
        then rows no record owns (left by a killed writer)."""
        archives = {str(path.resolve()) for path in files if path.suffix.lower() in ARCHIVES}
        gone = [aid for aid, record in known.items()
                if not Path(record.origin).exists() or (record.origin in archives and aid not in seen)]
        self.chroma.remove(gone)
        for aid in gone:
            known.pop(aid, None)
        report.removed += gone
        self.chroma.collect_all_garbage()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
