"""Metric functions for the evals: pure, small, and tested on hand-made cases.

Everything that compares text goes through `app.text.arabic.normalize`, so an
answer is not marked wrong for a diacritic, an alef form or Arabic-Indic digits.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from app.answer.dated import without_dates_note
from app.answer.markers import cited_numbers, strip_markers
from app.filters import Filters, day_number
from app.text.arabic import content_tokens, detect_language, normalize
from app.text.sentences import split_sentences

# A sentence is faithful when at least this share of its content words is in the passages it cites.
FAITHFUL_SHARE = 0.8

_SPACE = re.compile(r"\s+")


# --- retrieval -----------------------------------------------------------------------------

def first_gold_rank(ranked_sources: Sequence[str], gold: Iterable[str]) -> int | None:
    """1-based rank of the first passage from a gold source file, or None."""
    wanted = set(gold)
    for rank, source in enumerate(ranked_sources, start=1):
        if source in wanted:
            return rank
    return None


def hit_at_k(ranked_sources: Sequence[str], gold: Iterable[str], k: int) -> float:
    rank = first_gold_rank(ranked_sources, gold)
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(ranked_sources: Sequence[str], gold: Iterable[str]) -> float:
    rank = first_gold_rank(ranked_sources, gold)
    return 1.0 / rank if rank else 0.0


def ndcg_at_k(ranked_sources: Sequence[str], gold: Iterable[str], k: int = 10) -> float:
    """Binary relevance by source file: a gold file earns gain once, at its first passage.

    Several passages from the same article must not look like several relevant
    results, or a question needing two articles would be scored as answered by one.
    """
    wanted = set(gold)
    if not wanted:
        return 0.0
    credited: set[str] = set()
    dcg = 0.0
    for rank, source in enumerate(ranked_sources[:k], start=1):
        if source in wanted and source not in credited:
            credited.add(source)
            dcg += 1.0 / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


# --- facts and citations --------------------------------------------------------------------

def canonical(text: str) -> str:
    """Normalised, with runs of white space as one space: the form facts are matched in."""
    return _SPACE.sub(" ", normalize(text)).strip()


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def form_in(form: str, text: str) -> bool:
    """Whether one form of a fact occurs in `text` (both already `canonical`).

    Arabic glues prefixes (و، ب، ال) and suffixes to words, so Arabic forms match
    inside words. Latin words and numbers must not start mid-word, and a number
    must not continue into more digits ("5%" is not found in "3.5%", "20" not in "2035").
    """
    start = text.find(form)
    while start != -1:
        end = start + len(form)
        before = text[start - 1] if start else ""
        before2 = text[start - 2] if start > 1 else ""
        after = text[end] if end < len(text) else ""
        after2 = text[end + 1] if end + 1 < len(text) else ""
        ok_left = not (form[0].isascii() and form[0].isalnum() and _is_word_char(before))
        ok_left = ok_left and not (form[0].isdigit() and before in ".," and before2.isdigit())
        ok_right = not (form[-1].isdigit() and (after.isdigit() or (after in ".," and after2.isdigit())))
        if ok_left and ok_right:
            return True
        start = text.find(form, start + 1)
    return False


def _spellings(form: str) -> list[str]:
    """A form and, for an Arabic word with the article, its spelling after "ل" (ل + الـ = لـلـ)."""
    return [form, "ل" + form[1:]] if form.startswith("ال") and len(form) > 3 else [form]


def fact_in(text: str, forms: Sequence[str]) -> bool:
    """Whether `text` holds the fact in any of its acceptable forms."""
    haystack = canonical(text)
    return any(form_in(spelling, haystack) for form in forms for spelling in _spellings(canonical(form)))


def citation_precision(cited: Sequence[tuple[str, str]], gold: Iterable[str],
                       facts: Sequence[Sequence[str]]) -> float | None:
    """Share of cited passages `(source_stem, text)` that hold an expected fact or come from a gold source."""
    if not cited:
        return None
    wanted = set(gold)
    good = sum(1 for source, text in cited if source in wanted or any(fact_in(text, f) for f in facts))
    return good / len(cited)


def citation_recall(cited_texts: Sequence[str], facts: Sequence[Sequence[str]]) -> float | None:
    """Share of expected facts that at least one cited passage holds."""
    if not facts:
        return None
    return sum(1 for f in facts if any(fact_in(t, f) for t in cited_texts)) / len(facts)


# --- faithfulness and language ---------------------------------------------------------------

def faithfulness(answer: str, passages: dict[int, str]) -> float | None:
    """Share of answer sentences whose content words are found in the passages they cite.

    `passages` maps citation number to passage text. A marker standing alone
    after a full stop belongs to the sentence before it; a sentence without a
    marker borrows those of the next sentence that has them (a marker often
    closes a paragraph); a sentence that still cites nothing counts as unfaithful.
    Without an LLM this is a lexical check: it catches invented words, not wrong logic.
    The sources' dates the engine may add at the end restate metadata, not the passages.
    """
    sentences: list[str] = []
    markers: list[list[int]] = []
    for piece in split_sentences(without_dates_note(answer)):
        if content_tokens(strip_markers(piece)):
            sentences.append(piece)
            markers.append(cited_numbers(piece))
        elif sentences:  # a marker standing after the full stop belongs to the sentence before it
            markers[-1] = markers[-1] + cited_numbers(piece)
    if not sentences:
        return None
    carry: list[int] = []
    for i in range(len(sentences) - 1, -1, -1):
        carry = markers[i] or carry
        markers[i] = carry
    supported = 0
    for sentence, numbers in zip(sentences, markers):
        source_words: set[str] = set()
        for n in numbers:
            source_words.update(content_tokens(passages.get(n, "")))
        words = content_tokens(strip_markers(sentence))
        if source_words and sum(w in source_words for w in words) >= FAITHFUL_SHARE * len(words):
            supported += 1
    return supported / len(sentences)


def language_matches(answer: str, lang: str) -> bool:
    """Whether the answer (without its quotes' citation markers) is written in `lang`."""
    return detect_language(strip_markers(answer)) == lang


# --- time ------------------------------------------------------------------------------------

def dated_in(iso_date: str, period: Filters) -> bool:
    """Whether an article's date falls in the period (both ends included); an undated one never does."""
    low, high = period.days or (1, 99_991_231)
    return low <= day_number(iso_date) <= high


def in_period(cited_dates: Sequence[str], period: Filters) -> float | None:
    """1 when every cited article is dated inside the asked period, else 0; None when nothing is cited
    (a refusal says nothing out of period: it is counted as a false refusal instead)."""
    if not cited_dates:
        return None
    return float(all(dated_in(d, period) for d in cited_dates))


def latest_first(cited_sources: Sequence[str], newest: str) -> float:
    """1 when the first article the answer cites is the newest relevant one (nothing cited: 0)."""
    return float(bool(cited_sources) and cited_sources[0] == newest)


def timeline_order(cited: Sequence[tuple[str, str]], expected: Iterable[str]) -> float:
    """1 when the cited articles `(source, date)`, in the order the answer cites them, are dated and in
    ascending date order, and cover at least two of the expected ones: a development told oldest first."""
    days = [day_number(d) for _, d in cited]
    ordered = all(days) and all(a <= b for a, b in zip(days, days[1:]))
    return float(ordered and len({s for s, _ in cited} & set(expected)) >= 2)


# --- aggregates ------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation, like numpy's default."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


# --- SQuAD ----------------------------------------------------------------------------------

_PUNCT = set(string.punctuation) | {"،", "؛", "؟", "«", "»", "“", "”", "…", "–", "—"}


def squad_tokens(text: str) -> list[str]:
    """SQuAD answer normalisation with Arabic folding: no punctuation, no articles.

    The Arabic article is glued to its word, so it is dropped from the word's start
    ("الهلال" and "هلال" match), as the Arabic SQuAD scorers do; a word that would
    keep fewer than two letters keeps it ("اله").
    """
    text = normalize(strip_markers(text))
    text = "".join(" " if ch in _PUNCT or unicodedata.category(ch).startswith("P") else ch for ch in text)
    return [t[2:] if t.startswith("ال") and len(t) > 3 else t for t in text.split() if t not in {"a", "an", "the"}]


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    pred = squad_tokens(prediction)
    return 1.0 if any(pred == squad_tokens(g) for g in golds) else 0.0


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Best token-overlap F1 against any gold answer (SQuAD's definition)."""
    pred = squad_tokens(prediction)
    best = 0.0
    for gold in golds:
        ref = squad_tokens(gold)
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            precision, recall = common / len(pred), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best
