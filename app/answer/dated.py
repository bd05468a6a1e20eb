"""Time in the answer: news questions are asked with time in mind.

- A "latest" question is answered from the newest relevant article that answers it,
  cited first; older ones only when the newest do not answer.
- A "how did X develop" question gets a short dated list: one cited line per
  article, oldest to newest.
- An answer that cites articles of different dates ends with each source's date,
  newest first, so a reader sees which of two figures is the more recent one.

"Relevant" is a hit scoring at least `RELEVANT_SHARE` of the best hit: the newest
article in the index is not the answer to every "latest" question, only the newest
among those about it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from app.answer.citations import quote_parts
from app.answer.prompts import message, wording
from app.answer.record import Citation
from app.config import MAX_TOP_K
from app.retrieve import Hit

RELEVANT_SHARE = 0.5
TIMELINE_MOST = 6  # lines of a dated list
# A "latest" or "how did it develop" question reads this many times top-k passages: relevance
# ranks without regard to date, so the newest relevant article (or an early one of a story)
# may rank just below the top k.
DEPTH = 3

Quotes = list[tuple[int, str]]  # (hit index, sentence), as `extractive.choose_quotes` gives them
Chooser = Callable[[list[int]], Quotes | None]  # the quotes that answer among these hits, if any


def articles_by_date(hits: list[Hit], newest_first: bool) -> list[list[int]]:
    """The relevant dated hits' indices, grouped by article, the articles in date order."""
    if not hits:
        return []
    top = max(hit.score for hit in hits)
    groups: dict[str, list[int]] = {}
    for index, hit in enumerate(hits):
        if hit.passage.date and hit.score >= RELEVANT_SHARE * top:
            groups.setdefault(hit.passage.source, []).append(index)
    return sorted(groups.values(), key=lambda group: hits[group[0]].passage.date, reverse=newest_first)


def depth(top_k: int) -> int:
    """How many passages a dated question reads."""
    return min(top_k * DEPTH, MAX_TOP_K)


def in_date_order(hits: list[Hit], newest_first: bool) -> list[Hit]:
    """The relevant dated hits in date order, then the rest as ranked (what an LLM is shown)."""
    ordered = [index for group in articles_by_date(hits, newest_first) for index in group]
    first = set(ordered)
    return [hits[i] for i in ordered] + [hit for i, hit in enumerate(hits) if i not in first]


def latest_quotes(hits: list[Hit], choose: Chooser) -> Quotes | None:
    """The quotes of the newest relevant article that answers."""
    for group in articles_by_date(hits, newest_first=True):
        if quotes := choose(group):
            return quotes
    return None


def timeline_quotes(hits: list[Hit], choose: Chooser) -> Quotes | None:
    """One quote per relevant article that answers, oldest first."""
    lines = [quotes[0] for group in articles_by_date(hits, newest_first=False) if (quotes := choose(group))]
    return lines[-TIMELINE_MOST:] or None


def dated_list(quoted: Quotes, hits: list[Hit], language: str) -> tuple[str, list[Citation]]:
    """`- 24 June 2025: sentence [1]`, a line per quote."""
    parts, citations = quote_parts(quoted, hits)
    lines = [f"- {date_label(hits[index].passage.date, language)}: {part}" for (index, _), part in zip(quoted, parts)]
    return "\n".join(lines), citations


def dates_note(citations: list[Citation], language: str) -> str | None:
    """Each cited source's date, newest first, when the cited articles differ in date."""
    dated = {c.n: c.date for c in citations if c.date}
    if len(set(dated.values())) < 2:
        return None
    items = sorted(dated.items(), key=lambda item: item[1], reverse=True)
    separator = "، " if language == "ar" else "; "
    return f"{message('source_dates', language)} " + separator.join(f"[{n}] {date_label(d, language)}" for n, d in items)


def without_dates_note(text: str) -> str:
    """An answer without the dates line `dates_note` ended it with: the line restates the
    citations' metadata, so a check of what the passages support leaves it out."""
    head, _, last = text.rpartition("\n\n")
    openings = [message("source_dates", language) for language in ("ar", "en")]
    return head if head and any(last.startswith(opening) for opening in openings) else text


def date_label(iso: str, language: str) -> str:
    """`2025-06-24` as a reader writes it: `24 June 2025`, `24 يونيو 2025`."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    names = wording("messages")["month_names"]
    return f"{day.day} {names.get(language, names['en'])[day.month - 1]} {day.year}"
