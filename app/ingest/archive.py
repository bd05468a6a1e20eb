"""News archives as JSON Lines: one article a line, the shape archives are exported in.

    {"id": "...", "title": "...", "date": "2015-07-21", "text": "...",
     "url": "...", "source": "publisher", "author": "..."}

Each record is one article whose `id` is its identity in citations. A bad line
(not JSON, no id or text, an oversized record) is reported with its line number
and the rest goes in. The file is read as bytes, one line at a time: an archive
of any size streams, and one undecodable line spoils only itself.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from app.ingest.articles import Article, ArticleError
from app.ingest.metadata import find_date, publisher_name, web_url
from app.text.arabic import detect_language

MAX_ID_CHARS = 200
_FIELDS = ("id", "title", "date", "text", "url", "source", "author")


def count_records(path: Path) -> int:
    """Non-blank lines: the progress bar's total, without parsing."""
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def read_archive(path: Path, max_record_bytes: int) -> Iterator[Article | ArticleError]:
    """Each line's article, or the error that line gets (with its number)."""
    origin = str(path.resolve())
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield _article(raw, max_record_bytes, origin)
            except ArticleError as exc:
                yield ArticleError(f"{path.name}, line {number}: {exc}")


def _article(raw: bytes, max_bytes: int, origin: str) -> Article:
    if len(raw) > max_bytes:
        raise ArticleError(f"{len(raw):,} bytes is over the {max_bytes:,}-byte limit for one article")
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ArticleError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise ArticleError(f"not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ArticleError("not a JSON object")
    article_id = _text(record, "id").strip()
    if not article_id or len(article_id) > MAX_ID_CHARS or any(unicodedata.category(c)[0] == "C" for c in article_id):
        raise ArticleError(f"'id' must be a printable string of 1 to {MAX_ID_CHARS} characters")
    body = _text(record, "text").strip()  # an export holds the body alone: no page chrome to strip
    if not body:
        raise ArticleError(f"{article_id}: no article text")
    fields = {name: _text(record, name) for name in _FIELDS}
    return Article(
        source=article_id,
        title=" ".join(fields["title"].split()),
        date=find_date(fields["date"]),
        language=detect_language(body),
        body=body,
        sha=hashlib.sha256(json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest(),
        origin=origin,
        url=web_url(fields["url"]),
        publisher=publisher_name(fields["source"]),
        author=fields["author"].strip(),
    )


def _text(record: dict, name: str) -> str:
    """A field as text: absent or null is empty; numbers (ids) become text; anything else is refused."""
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ArticleError(f"'{name}' must be text")
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate written as a JSON escape
        raise ArticleError(f"'{name}' is not valid text") from None
    return text
