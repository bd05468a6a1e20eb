"""Citations are checked, not trusted.

The answerer numbers the passages it was given 1..k. Here markers that point at
no passage are dropped, the rest are renumbered 1..m in order of first use, and
each citation carries the passage's original text.
"""

from __future__ import annotations

import re

from app.answer.record import Citation
from app.retrieve import Hit

# "[1]", "[1, 3]", "[1،3]", "[١]", "[1-3]": numbers or ranges in brackets.
_NUMBER = r"[0-9\u0660-\u0669]+(?:\s*[-–]\s*[0-9\u0660-\u0669]+)?"
_MARKER = re.compile(rf"\[\s*({_NUMBER}(?:\s*[,،;]\s*{_NUMBER})*)\s*\]")
_ARABIC_DIGITS = str.maketrans({chr(0x0660 + i): str(i) for i in range(10)})


def _numbers(group: str) -> list[int]:
    """"1, 3-4" -> [1, 3, 4]; a range longer than 20 is not a citation and yields nothing."""
    numbers: list[int] = []
    for item in re.split(r"\s*[,،;]\s*", group.translate(_ARABIC_DIGITS).strip()):
        ends = [int(x) for x in re.split(r"\s*[-–]\s*", item)]
        if len(ends) == 2 and 0 <= ends[1] - ends[0] <= 20:
            numbers += range(ends[0], ends[1] + 1)
        elif len(ends) == 1:
            numbers.append(ends[0])
    return numbers


def resolve_citations(text: str, hits: list[Hit]) -> tuple[str, list[Citation]]:
    """Renumber the `[n]` markers of an LLM's answer (1-based indexes into `hits`) and build the citations."""
    order: dict[int, int] = {}  # original number -> new number

    def renumber(match: re.Match[str]) -> str:
        kept = []
        for n in _numbers(match.group(1)):
            if 1 <= n <= len(hits):
                order.setdefault(n, len(order) + 1)
                kept.append(f"[{order[n]}]")
        return "".join(dict.fromkeys(kept))

    cleaned = _MARKER.sub(renumber, text)
    cleaned = re.sub(r"[ \t]+([.,،؛!?؟])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return cleaned, _citations(hits, order, {})


def quote_answer(quoted: list[tuple[int, str]], hits: list[Hit]) -> tuple[str, list[Citation]]:
    """An extractive answer from (hit index, sentence) pairs: each sentence, then its marker.

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
    return " ".join(parts), _citations(hits, order, quotes)


def _citations(hits: list[Hit], order: dict[int, int], quotes: dict[int, list[str]]) -> list[Citation]:
    """`order` maps a 1-based hit number to its citation number."""
    citations = []
    for original, new in sorted(order.items(), key=lambda item: item[1]):
        hit = hits[original - 1]
        p = hit.passage
        citations.append(
            Citation(n=new, source=p.source, title=p.title, date=p.date, text=p.text, score=hit.score,
                     quotes=quotes.get(original, []))
        )
    return citations
