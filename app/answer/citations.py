"""Citations are checked, not trusted.

The answerer numbers the passages it was given 1..k. Here markers that point at
no passage are dropped, the rest are renumbered 1..m in order of first use, and
each citation carries the passage's original text.
"""

from __future__ import annotations

import re

from app.answer.markers import MARKER, marker_numbers
from app.answer.record import Citation
from app.retrieve import Hit


def resolve_citations(text: str, hits: list[Hit]) -> tuple[str, list[Citation]]:
    """Renumber the `[n]` markers of an LLM's answer (1-based indexes into `hits`) and build the citations."""
    order: dict[int, int] = {}  # original number -> new number

    def renumber(match: re.Match[str]) -> str:
        kept = []
        for n in marker_numbers(match.group(1)):
            if 1 <= n <= len(hits):
                order.setdefault(n, len(order) + 1)
                kept.append(f"[{order[n]}]")
        return "".join(dict.fromkeys(kept))

    return _tidy(MARKER.sub(renumber, text)), _citations(hits, order, {})


def _tidy(text: str) -> str:
    """The spaces a dropped marker leaves, gone; line breaks and a list's indentation kept
    (answers may be Markdown lists, and the interfaces show one line per line)."""
    text = re.sub(r"(?<=\S)[ \t]{2,}", " ", text)
    text = re.sub(r"[ \t]+(?=[.,،؛!?؟]|\n|$)", "", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def quote_answer(quoted: list[tuple[int, str]], hits: list[Hit]) -> tuple[str, list[Citation]]:
    """An extractive answer from (hit index, sentence) pairs: each sentence, then its marker."""
    parts, citations = quote_parts(quoted, hits)
    return " ".join(parts), citations


def quote_parts(quoted: list[tuple[int, str]], hits: list[Hit]) -> tuple[list[str], list[Citation]]:
    """Each quoted sentence followed by its marker, and the citations they number.

    The sentences are the articles' own words and are never scanned for markers,
    so an article's "[3]" stays text instead of becoming a citation.
    """
    order: dict[int, int] = {}
    quotes: dict[int, list[str]] = {}
    parts = []
    for index, sentence in quoted:
        n = order.setdefault(index + 1, len(order) + 1)
        quotes.setdefault(index + 1, []).append(sentence)
        parts.append(f"{sentence} [{n}]")
    return parts, _citations(hits, order, quotes)


def _citations(hits: list[Hit], order: dict[int, int], quotes: dict[int, list[str]]) -> list[Citation]:
    """`order` maps a 1-based hit number to its citation number."""
    citations = []
    for original, new in sorted(order.items(), key=lambda item: item[1]):
        hit = hits[original - 1]
        p = hit.passage
        citations.append(
            Citation(n=new, source=p.source, title=p.title, date=p.date, text=p.text, score=hit.score,
                     quotes=quotes.get(original, []), passage_id=p.id, url=p.url, publisher=p.publisher)
        )
    return citations
