"""Sentence splitting for Arabic and English news text.

Ends: `. ! ? ؟ ؛` and line breaks. `،` is a clause break, not an end. A period
between digits (3.5) or inside Latin initials (U.S.) is not an end; a period
glued to the next Arabic word ("الأخيرة.ففي") is. Nor, mostly, is the period of a
one-letter Arabic abbreviation:
- a title before a name ("د." doctor, "م." engineer, "أ." professor: "وزير النقل م. سالم",
  "أ. د. سلمى") or initials ("ص.ب."), unless a sentence plainly starts after it
  ("المجموعة أ. وفي المباراة الأخرى", "فيتامين د. كما أن");
- an era after a year when more of it follows ("500 ق.م،", "500ق.م", "ق. م"); the era's last
  letter, alone or after the rest ("عام 2015 م. كما", "300 ق.م. وبعده"), may end a sentence.
Nor is the period of a Latin letter spelled in Arabic, in a name read letter by letter ("سي. إن.
إن.", "بي.بي.سي", "إتش. إس. بي. سي"): two or more such letters with their periods, and maybe one
more without ("جي. بي مورغان" stays split: "في. إن" is more often two sentences); after the last
period, a sentence ends only if a plain sentence opener follows.
"""

from __future__ import annotations

import re

from app.text.arabic import MARKS, TATWEEL, normalize

_LETTERS = "\u0621-\u064a"  # the Arabic letters, as a character class's body
# Terminal punctuation (plus any closing quotes/brackets), then space, an Arabic letter, or the end.
_END = re.compile(
    rf"""(?:\.{{3}}|…|[.!?؟؛])["'”’»)\]]*(?=\s|[{_LETTERS}]|$)"""
)
_LINE_BREAK = re.compile(r"\n+")
_ONE_LETTER_AFTER = re.compile(rf"\s*[{_LETTERS}](?![{_LETTERS}{TATWEEL}])")  # "ق. م", "ق.م،"
_NEXT_WORD = re.compile(rf"(?:[^\W\d_]|[{MARKS}{TATWEEL}])+")  # a word, its marks included
_LETTER = re.compile(f"[{_LETTERS}]")
_MARK = re.compile(f"[{MARKS}{TATWEEL}]")  # on a letter: "دُ", the tatweel of "هـ"
_BEFORE_WORD = frozenset("([«\"'“\u200b\u200c\u200d\u200e\u200f\u061c\ufeff")  # opening or invisible marks
_MOST_MARKS = 3  # on one letter
_MOST_INITIALS = 3  # "أ. د.", "ق. م.": looking further back for each period would be quadratic
# Latin letters as Arabic spells them out (normalised), and the longest of them.
_LETTER_NAMES = frozenset(normalize(name) for name in (
    "إيه", "أيه", "بي", "سي", "دي", "إي", "أي", "آي", "إف", "جي", "إتش", "جيه", "كيه", "كي", "إل", "إم", "إن",
    "أو", "كيو", "آر", "إس", "تي", "يو", "في", "دبليو", "إكس", "واي", "زد"))
_LONGEST_LETTER_NAME = max(map(len, _LETTER_NAMES))
# Words that start a sentence and are no name: after "المجموعة أ." or "فيتامين د." (normalised; "إن"
# as written, `_HAMZA_OPENERS`: normalised it is also "أن", the "that" after a name, "ذكرت بي. بي. سي. أن").
_SENTENCE_OPENERS = frozenset(normalize(word) for word in (
    "و", "ف", "كما", "كذلك", "وكذلك", "لكن", "ولكن", "ثم", "بينما", "فيما", "وفيما", "أما", "وأما", "إذ", "حيث",
    "قد", "وقد", "فقد", "لقد", "ولقد", "هذا", "وهذا", "هذه", "وهذه", "ذلك", "وذلك", "هو", "وهو", "هي", "وهي",
    "في", "وفي", "من", "ومن", "بعد", "وبعد", "كان", "وكان", "كانت", "وكانت", "تم", "وتم",
    "قال", "وقال", "قالت", "وقالت", "أضاف", "وأضاف", "أكد", "وأكد", "أوضح", "وأوضح", "أشار", "وأشار",
    "يعد", "ويعد", "تعد", "وتعد", "يأتي", "ويأتي", "تأتي", "وتأتي", "أيضا"))
_HAMZA_OPENERS = frozenset(("إن", "وإن"))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence in `text`, trimmed of white space."""
    spans: list[tuple[int, int]] = []
    for block in _blocks(text):
        start = block[0]
        for match in _END.finditer(text, block[0], block[1]):
            if _is_decimal_or_initial(text, match.start()) or _is_arabic_abbreviation(text, match.start(), block[0]) \
                    or _is_spelled_initial(text, match.start(), block[0]):
                continue
            spans.append((start, match.end()))
            start = match.end()
        spans.append((start, block[1]))
    return [trimmed for s, e in spans if (trimmed := _trim(text, s, e))]


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def _blocks(text: str) -> list[tuple[int, int]]:
    """Line-separated blocks: a line break always ends a sentence."""
    blocks, start = [], 0
    for match in _LINE_BREAK.finditer(text):
        blocks.append((start, match.start()))
        start = match.end()
    blocks.append((start, len(text)))
    return blocks


def _is_decimal_or_initial(text: str, i: int) -> bool:
    if text[i] != ".":
        return False
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if before.isdigit() and after.isdigit():
        return True
    # "U.S." / "e.g.": a single Latin letter before the period.
    return before.isascii() and before.isalpha() and (i < 2 or not text[i - 2].isalpha())


def _is_arabic_abbreviation(text: str, i: int, floor: int) -> bool:
    """Whether the period at `i` belongs to a one-letter Arabic abbreviation (see the module's
    docstring); `floor` is where its line starts, which nothing looks behind."""
    if text[i] != "." or (first := _letter_before(text, i, floor)) is None:
        return False
    for _ in range(_MOST_INITIALS):  # back to the chain's first letter: "أ. د.", "ص.ب."
        j = _previous(text, first, floor)
        if j < floor or text[j] != "." or (earlier := _letter_before(text, j, floor)) is None:
            break
        first = earlier
    j = _previous(text, first, floor)
    if j >= floor and text[j].isdigit():  # an era: it goes on, or the sentence ends with it
        return _ONE_LETTER_AFTER.match(text, i + 1) is not None
    following = _NEXT_WORD.search(text, i + 1, i + 40)
    return following is None or not _opens_sentence(following.group())


def _opens_sentence(word: str) -> bool:
    """Whether `word` plainly starts a sentence (`_SENTENCE_OPENERS`, `_HAMZA_OPENERS`)."""
    return normalize(word) in _SENTENCE_OPENERS or _MARK.sub("", word) in _HAMZA_OPENERS


def _is_spelled_initial(text: str, i: int, floor: int) -> bool:
    """Whether the period at `i` follows a Latin letter spelled in Arabic within a name read letter
    by letter (see the module's docstring); `floor` is where its line starts."""
    if text[i] != "." or (start := _letter_name_before(text, i, floor)) is None:
        return False
    following = _NEXT_WORD.search(text, i + 1, i + 40)
    if following and normalize(following.group()) in _LETTER_NAMES and text.startswith(".", following.end()):
        return True  # "سي. إن."
    j = _previous(text, start, floor)
    chained = j >= floor and text[j] == "." and _letter_name_before(text, j, floor) is not None
    return chained and not (following and _opens_sentence(following.group()))


def _letter_name_before(text: str, end: int, floor: int) -> int | None:
    """Where the Latin letter spelled in Arabic that ends at `end` starts ("سي", "إتش"); None if the
    word before `end` is not one. It stands alone: the line's start, a space, an opening or
    invisible mark or an initial's period comes before it."""
    j = end
    while j > floor and end - j <= _LONGEST_LETTER_NAME and _LETTER.match(text, j - 1):
        j -= 1
    before = text[j - 1] if j > floor else " "
    if j == end or end - j > _LONGEST_LETTER_NAME or not (before.isspace() or before in _BEFORE_WORD or before == "."):
        return None
    return j if normalize(text[j:end]) in _LETTER_NAMES else None


def _letter_before(text: str, end: int, floor: int) -> int | None:
    """Where the one-letter Arabic word ending at `end` starts, marks on its letter allowed; None if
    the word before `end` is not one. It stands alone: the line's start, a space, an opening or
    invisible mark, a digit ("500ق.م") or an initial's period ("ص.ب") comes before it."""
    j, marks = end - 1, 0
    while j >= floor and _MARK.match(text, j) and marks < _MOST_MARKS:
        j, marks = j - 1, marks + 1
    if j < floor or not _LETTER.match(text, j):
        return None
    before = text[j - 1] if j > floor else " "
    return j if before.isspace() or before.isdigit() or before in _BEFORE_WORD or before == "." else None


def _previous(text: str, at: int, floor: int) -> int:
    """The last character before `at` that is not a space, or `floor - 1` (no slice: an upload may
    hold thousands of abbreviations)."""
    j = at - 1
    while j >= floor and text[j].isspace():
        j -= 1
    return j


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end or not any(ch.isalnum() for ch in text[start:end]):
        return None
    return start, end
