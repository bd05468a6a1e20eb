"""Separate a scraped news page's article from the page chrome around it.

Scraped pages carry loading messages, logos, share bars and "most read" /
"breaking 24/7" tickers of unrelated headlines with their timestamps. Those
headlines would otherwise be retrieved and quoted as if the article said them.
The rules are generic (line shapes and a list of common UI phrases), never
about what an article says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from app.text.arabic import normalize

_SEPARATOR = re.compile(r"^[\s\-–—_|•·*=~.…]+$")
_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm|ص|م)?$", re.IGNORECASE)
_DATE_TOKEN = re.compile(r"^(?:\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}|\d{1,2}:\d{2}(?::\d{2})?|[|,،\-–])$")
_WEEKDAYS = {
    normalize(d)
    for d in "السبت الأحد الاثنين الإثنين الثلاثاء الأربعاء الخميس الجمعة".split()
    + "monday tuesday wednesday thursday friday saturday sunday".split()
}
_SENTENCE_END = re.compile(r"""[.!?؟؛…:]["'”’»)\]]*$""")
PROSE_MIN_CHARS = 120
TICKER_MIN_MARKERS = 3
TICKER_MIN_SHARE = 0.3


@dataclass
class Cleaned:
    """The article body (original characters) and the lines that preceded it."""

    body: str
    head: list[str] = field(default_factory=list)
    stamps: list[str] = field(default_factory=list)  # date/time lines, kept for metadata
    removed: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _phrases() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "chrome_phrases.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(normalize(x.strip()) for x in lines if x.strip() and not x.startswith("#"))


def is_stamp(line: str) -> bool:
    """A line made only of a weekday, a time and a date ("الأربعاء 15:59 15/10/2025")."""
    tokens = line.split()
    if not tokens:
        return False
    has_number = any(any(ch.isdigit() for ch in t) for t in tokens)
    return has_number and all(_DATE_TOKEN.match(t) or normalize(t) in _WEEKDAYS for t in tokens)


def is_marker(line: str) -> bool:
    """Page furniture: separators, bare times, date stamps, UI phrases."""
    text = line.strip()
    if len(text) <= 2 or _SEPARATOR.match(text) or _TIME.match(text) or is_stamp(text):
        return True
    norm = normalize(text).rstrip(" :|.…").strip()
    if norm in _phrases():
        return True
    return any(norm.startswith(p + sep) for p in _phrases() for sep in (":", " |", "|"))


def is_prose(line: str) -> bool:
    text = line.strip()
    return len(text) >= PROSE_MIN_CHARS or bool(_SENTENCE_END.search(text))


def strip_chrome(text: str) -> Cleaned:
    """Keep the article whole; drop the furniture before, inside and after it."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    content = [i for i, line in enumerate(lines) if line.strip()]
    markers = {i for i in content if is_marker(lines[i])}
    prose = [i for i in content if i not in markers and is_prose(lines[i])]
    if not prose:  # nothing article-like: keep every non-marker line
        plain = [lines[i] for i in content if i not in markers]
        return Cleaned(body="\n".join(plain).strip(), removed=[lines[i] for i in sorted(markers)])

    start = prose[0]
    end = _ticker_start(content, markers, start)
    last_prose = max(i for i in prose if i < end)
    body_idx = [i for i in content if start <= i <= last_prose and i not in markers]
    kept = set(body_idx)
    head = [lines[i].strip() for i in content if i < start and i not in markers]
    stamps = [lines[i].strip() for i in content if i < end and is_stamp(lines[i].strip())]
    body = "\n\n".join(lines[i].strip() for i in body_idx)
    removed = [lines[i] for i in content if i not in kept and lines[i].strip() not in head]
    return Cleaned(body=body, head=head, stamps=stamps, removed=removed)


def _ticker_start(content: list[int], markers: set[int], start: int) -> int:
    """First marker after the body start from which the rest of the page is mostly markers."""
    after = [i for i in content if i > start]
    for pos, i in enumerate(after):
        if i not in markers:
            continue
        rest = after[pos:]
        count = sum(1 for j in rest if j in markers)
        if count >= TICKER_MIN_MARKERS and count / len(rest) >= TICKER_MIN_SHARE:
            return i
    return (content[-1] + 1) if content else 0
