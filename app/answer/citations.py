"""Citations are checked, not trusted.

The answerer numbers the passages it was given 1..k. Here markers that point at
no passage are dropped, the rest are renumbered 1..m in order of first use, and
each citation carries the passage's original text.
"""

from __future__ import annotations

import re

from app.answer.record import Citation
from app.retrieve import Hit

# "[1]", "[1, 3]", "[1،3]", "[١]": one or more numbers in brackets.
_MARKER = re.compile(r"\[\s*([0-9\u0660-\u0669]+(?:\s*[,،;]\s*[0-9\u0660-\u0669]+)*)\s*\]")
_ARABIC_DIGITS = str.maketrans({chr(0x0660 + i): str(i) for i in range(10)})


def _numbers(group: str) -> list[int]:
    return [int(x) for x in re.split(r"\s*[,،;]\s*", group.translate(_ARABIC_DIGITS).strip())]


def resolve_citations(text: str, hits: list[Hit], quotes: dict[int, list[str]] | None = None) -> tuple[str, list[Citation]]:
    """Renumber `[n]` markers (1-based indexes into `hits`) and build the citation list."""
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
    citations = []
    for original, new in sorted(order.items(), key=lambda item: item[1]):
        hit = hits[original - 1]
        p = hit.passage
        citations.append(
            Citation(
                n=new, source=p.source, title=p.title, date=p.date, text=p.text, score=hit.score,
                quotes=(quotes or {}).get(original, []),
            )
        )
    return cleaned, citations
