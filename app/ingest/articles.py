"""Read an article file (.txt, .md, .html) into clean text plus metadata.

Whatever the format, the result is the article body without page chrome, a
title and date where the file states them, and the body's language.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from app.ingest.metadata import find_date, pick_title, split_date_field
from app.text.arabic import detect_language
from app.text.chrome import strip_chrome

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm")
ARCHIVES = (".jsonl",)  # one article a line; see `app.ingest.archive`


class ArticleError(ValueError):
    """A file that cannot be ingested; the message says why, for the person who gave it."""


@dataclass
class Article:
    source: str  # the article's identity in the index and in citations: file name or archive id
    title: str
    date: str  # ISO 8601 or ""
    language: str
    body: str
    sha: str  # of the raw bytes: unchanged articles are not embedded again
    origin: str = ""  # the file it was read from (an archive for archive records)
    url: str = ""
    publisher: str = ""
    author: str = ""


def load_article(path: Path, max_bytes: int) -> Article:
    if path.suffix.lower() not in SUPPORTED:
        raise ArticleError(f"{path.name}: unsupported type (use {', '.join(SUPPORTED)})")
    raw = path.read_bytes()
    if not raw.strip():
        raise ArticleError(f"{path.name}: the file is empty")
    if len(raw) > max_bytes:
        raise ArticleError(f"{path.name}: {len(raw):,} bytes is over the {max_bytes:,}-byte limit")
    if b"\x00" in raw:
        raise ArticleError(f"{path.name}: looks binary, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    suffix = path.suffix.lower()
    stated_title, stated_date = "", ""
    if suffix in (".html", ".htm"):
        text, stated_title, stated_date = _html_to_text(text)
    elif suffix in (".md", ".markdown"):
        text, stated_title, stated_date = _markdown_to_text(text)

    cleaned = strip_chrome(text)
    field_date, body = split_date_field(cleaned.body)
    if not body.strip():
        raise ArticleError(f"{path.name}: no article text found")
    title = stated_title or pick_title(cleaned.head)
    date = stated_date or field_date or find_date("\n".join(cleaned.head + cleaned.stamps))
    return Article(
        source=path.name,
        title=title.strip(),
        date=date,
        language=detect_language(body),
        body=body.strip(),
        sha=hashlib.sha256(raw).hexdigest(),
        origin=str(path.resolve()),
    )


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(^\s{0,3}(?:#{1,6}|>|[-*+]|\d+\.)\s+)|[*_`]{1,3}", re.MULTILINE)


def _markdown_to_text(text: str) -> tuple[str, str, str]:
    """Plain text, front-matter title/date and the first `#` heading as title."""
    title, date = "", ""
    front = _FRONT_MATTER.match(text)
    if front:
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            value = value.strip().strip("\"'")
            if key.strip().lower() == "title":
                title = value
            elif key.strip().lower() == "date":
                date = find_date(value)
        text = text[front.end():]
    heading = re.search(r"^\s{0,3}#\s+(.+)$", text, re.MULTILINE)
    if heading and not title:
        title = heading.group(1).strip()
    if heading:
        text = text[: heading.start()] + text[heading.end():]
    text = _MD_LINK.sub(r"\1", text)
    return _MD_MARKS.sub("", text), title, date


class _HtmlText(HTMLParser):
    """Collects visible block text; skips scripts, styles and navigation furniture."""

    SKIP = {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "template"}
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "tr", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.in_title = False
        self.in_h1 = False
        self.title = ""
        self.h1 = ""
        self.date = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag == "title" and not self.skip_depth:  # not an <svg>'s <title>
            self.in_title = True
        elif tag == "h1":
            self.in_h1 = True
        elif tag == "meta" and values.get("property", values.get("name", "")).lower() in (
            "article:published_time", "date", "pubdate", "publishdate",
        ):
            self.date = self.date or find_date(values.get("content", ""))
        elif tag == "time" and values.get("datetime"):
            self.date = self.date or find_date(values["datetime"])
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skip_depth:
            self.skip_depth -= 1
        elif tag == "title":
            self.in_title = False
        elif tag == "h1":
            self.in_h1 = False
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif self.skip_depth:
            return
        elif self.in_h1:
            self.h1 += data
        else:
            self.parts.append(data)


def _html_to_text(html: str) -> tuple[str, str, str]:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    text = "\n".join(line for line in lines if line)
    title = " ".join((parser.h1 or parser.title).split())
    return text, title, parser.date
