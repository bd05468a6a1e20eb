"""What the index holds, as the rest of the engine sees it: articles and their passages.

Both live in Chroma (see `app.index.chroma`); these are their in-memory forms.
A passage's id carries its article's id and a prefix of the article's content
hash, so the id alone says which version of which article it belongs to:
passages of an older version, or of an article whose record was never written
(an ingest killed mid-batch), are recognised and ignored without a look-up.
"""

from __future__ import annotations

from dataclasses import dataclass

Span = tuple[int, int]
SHA_PREFIX = 10  # hex digits of the article hash kept in passage ids


def passage_id(article_id: str, chunk: int, sha: str) -> str:
    return f"{article_id}#{chunk}:{sha[:SHA_PREFIX]}"


def parse_passage_id(pid: str) -> tuple[str, str]:
    """(article id, sha prefix); article ids may themselves hold `#` or `:`."""
    head, _, sha = pid.rpartition(":")
    article, _, _chunk = head.rpartition("#")
    return article, sha


@dataclass(frozen=True)
class ArticleRecord:
    """One ingested article: the commit marker of its passages (written after them)."""

    id: str  # identity in citations: a file name, or an archive record's id
    sha: str  # content hash of what was ingested
    origin: str  # where it came from: a file path, or "archive.jsonl" for an archive record
    title: str
    date: str
    passages: int
    url: str = ""
    publisher: str = ""
    author: str = ""

    def owns(self, pid: str) -> bool:
        """True when `pid` is a passage of this version of this article."""
        article, sha = parse_passage_id(pid)
        return article == self.id and self.sha.startswith(sha)


def is_current(pid: str, records: dict[str, ArticleRecord]) -> bool:
    """True for a row of its article's current version: not stale, not left uncommitted."""
    record = records.get(parse_passage_id(pid)[0])
    return record is not None and record.owns(pid)


@dataclass
class StoredPassage:
    """A passage as stored: original text (for quoting) plus its article's metadata."""

    id: str
    source: str  # the article id
    title: str
    date: str
    language: str
    chunk: int
    text: str
    sentences: list[Span]
    publisher: str = ""  # the article's, as its metadata gave it: what `sources` filters select
    url: str = ""

    @property
    def searchable(self) -> str:
        """What BM25 indexes: the title is part of every passage's text."""
        return f"{self.title}\n{self.text}"
