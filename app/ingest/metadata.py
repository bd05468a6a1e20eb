"""Article metadata the text itself states: a title and a publication date.

Only the lines before the article body (and a leading "date …" field) are
searched for a date, so a date mentioned inside the story is never taken for
the article's own.
"""

from __future__ import annotations

import re
from datetime import date

from app.text.arabic import normalize
from app.text.months import MONTHS

_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?!\d)")
_NAMED = re.compile(r"(?<!\d)(\d{1,2})\s+([^\W\d_]+)\s+(\d{4})(?!\d)")
_DATE_FIELD = re.compile(r"^\s*date\s*[:=]?\s*(\d{4}-\d{1,2}-\d{1,2})\s*", re.IGNORECASE)
TITLE_MIN_WORDS = 4
TITLE_MAX_CHARS = 200
MAX_URL_CHARS = 2000
MAX_PUBLISHER_CHARS = 200


def split_date_field(text: str) -> tuple[str, str]:
    """Strip a leading `date 2026-02-12` field some scrapers prepend; return (date, rest)."""
    match = _DATE_FIELD.match(text)
    if not match:
        return "", text
    return find_date(match.group(1)), text[match.end():]


def find_date(text: str) -> str:
    """The first valid date stated in `text`, as ISO 8601, or ''."""
    norm = normalize(text)
    candidates: list[tuple[int, int, int, int]] = []  # (position, year, month, day)
    for m in _ISO.finditer(norm):
        candidates.append((m.start(), int(m[1]), int(m[2]), int(m[3])))
    for m in _DMY.finditer(norm):
        candidates.append((m.start(), int(m[3]), int(m[2]), int(m[1])))
    for m in _NAMED.finditer(norm):
        month = MONTHS.get(m[2])
        if month:
            candidates.append((m.start(), int(m[3]), month, int(m[1])))
    for _, year, month, day in sorted(candidates):
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            continue
    return ""


def web_url(value: str) -> str:
    """`value` when it is an absolute http(s) URL a page may link to, else ''.

    Article files are hostile: a `javascript:` or `data:` "URL", or one with spaces or
    quotes, would become a link in the browser and in Slack. What is kept is safe to put
    in an `href` once HTML-escaped.
    """
    value = (value or "").strip()
    if len(value) > MAX_URL_CHARS or not re.fullmatch(r"https?://[^\s\"'<>|\\^`{}]+", value, re.IGNORECASE):
        return ""
    return value


def publisher_name(value: str) -> str:
    """A publisher's name on one line, as filters match it and citations show it."""
    return " ".join((value or "").split())[:MAX_PUBLISHER_CHARS]


def pick_title(head: list[str]) -> str:
    """The first line before the body that reads like a headline."""
    for line in head:
        if len(line.split()) >= TITLE_MIN_WORDS and len(line) <= TITLE_MAX_CHARS:
            return line
    return ""
