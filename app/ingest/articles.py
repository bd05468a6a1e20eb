"""Read an article file (.txt, .md, .html) into clean text plus metadata.

Whatever the format, the result is the article body without page chrome, a
title and date where the file states them, and the body's language.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from app.ingest.metadata import TITLE_MAX_CHARS, find_date, pick_title, publisher_name, split_date_field, web_url
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


@dataclass
class Stated:
    """What a file says about itself besides its text (front matter, meta tags, JSON-LD)."""

    title: str = ""
    date: str = ""
    url: str = ""
    publisher: str = ""


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
    stated = Stated()
    if suffix in (".html", ".htm"):
        text, stated = _html_to_text(text)
    elif suffix in (".md", ".markdown"):
        text, stated = _markdown_to_text(text)

    cleaned = strip_chrome(text)
    field_date, body = split_date_field(cleaned.body)
    if not body.strip():
        raise ArticleError(f"{path.name}: no article text found")
    title = stated.title or pick_title(cleaned.head)
    date = stated.date or field_date or find_date("\n".join(cleaned.head + cleaned.stamps))
    return Article(
        source=path.name,
        title=title.strip(),
        date=date,
        language=detect_language(body),
        body=body.strip(),
        sha=hashlib.sha256(raw).hexdigest(),
        origin=str(path.resolve()),
        url=stated.url,
        publisher=stated.publisher,
    )


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(^\s{0,3}(?:#{1,6}|>|[-*+]|\d+\.)\s+)|[*_`]{1,3}", re.MULTILINE)


def _markdown_to_text(text: str) -> tuple[str, Stated]:
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
    return _MD_MARKS.sub("", text), Stated(title=title, date=date)


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
        self.url = ""
        self.publisher = ""
        self.in_json_ld = False
        self.json_ld: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "script" and values.get("type", "").lower() == "application/ld+json":
            self.in_json_ld = True
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag == "title" and not self.skip_depth:  # not an <svg>'s <title>
            self.in_title = True
        elif tag == "h1":
            self.in_h1 = True
        elif tag == "meta":
            self._meta(values.get("property", values.get("name", "")).lower(), values.get("content", ""))
        elif tag == "link" and values.get("rel", "").lower() == "canonical":
            self.url = self.url or web_url(values.get("href", ""))
        elif tag == "time" and values.get("datetime"):
            self.date = self.date or find_date(values["datetime"])
        if tag in self.BLOCK:
            self.parts.append("\n")

    def _meta(self, name: str, content: str) -> None:
        if name in ("article:published_time", "date", "pubdate", "publishdate"):
            self.date = self.date or find_date(content)
        elif name == "og:url":
            self.url = self.url or web_url(content)
        elif name == "og:site_name":
            self.publisher = self.publisher or publisher_name(content)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_json_ld = False
        if tag in self.SKIP and self.skip_depth:
            self.skip_depth -= 1
        elif tag == "title":
            self.in_title = False
        elif tag == "h1":
            self.in_h1 = False
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_json_ld:
            self.json_ld.append(data)
        elif self.in_title:
            self.title += data
        elif self.skip_depth:
            return
        elif self.in_h1:
            self.h1 += data
        else:
            self.parts.append(data)


def _html_to_text(html: str) -> tuple[str, Stated]:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    text = "\n".join(line for line in lines if line)
    title = " ".join((parser.h1 or parser.title).split())
    ld = _news_article("".join(parser.json_ld))
    return text, Stated(
        title=title or ld.title, date=parser.date or ld.date, url=parser.url or ld.url,
        publisher=parser.publisher or ld.publisher,
    )


def _news_article(data: str) -> Stated:
    """A JSON-LD `NewsArticle` (or `Article`) block's headline, date, URL and publisher name."""
    try:
        found: Any = json.loads(data) if data.strip() else None
    except json.JSONDecodeError:
        return Stated()
    items = found if isinstance(found, list) else (found.get("@graph", [found]) if isinstance(found, dict) else [])
    for item in items:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("Article"):
            publisher = item.get("publisher")
            name = publisher.get("name", "") if isinstance(publisher, dict) else publisher
            page = item.get("mainEntityOfPage")
            url = item.get("url") or (page.get("@id", "") if isinstance(page, dict) else page)
            return Stated(
                title=" ".join(str(item.get("headline", "")).split())[:TITLE_MAX_CHARS],
                date=find_date(str(item.get("datePublished", ""))),
                url=web_url(str(url or "")),
                publisher=publisher_name(str(name or "")),
            )
    return Stated()
