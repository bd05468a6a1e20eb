"""Sentence splitting for Arabic and English news text.

Ends: `. ! ? ؟ ؛` and line breaks. `،` is a clause break, not an end. A period
between digits (3.5) or inside Latin initials (U.S.) is not an end; a period
glued to the next Arabic word ("الأخيرة.ففي") is. Nor is the period of a one-letter
Arabic abbreviation: a title before a name ("د." doctor, "م." engineer, "أ." professor:
"وزير الصحة م. خالد"), initials ("ص.ب"), an era after a year when more of it follows
("336 ق.م،", "ق. م"). An era's letter alone after a year ("عام 2015 م. كما") may end one.
"""

from __future__ import annotations

import re

# Terminal punctuation (plus any closing quotes/brackets), then space, an Arabic letter, or the end.
_END = re.compile(
    r"""(?:\.{3}|…|[.!?؟؛])["'”’»)\]]*(?=\s|[\u0621-\u064a]|$)"""
)
_LINE_BREAK = re.compile(r"\n+")
_ARABIC_LETTER = "\u0621-\u064a"
_TATWEEL = "\u0640"
# The one-letter word a period follows ("هـ" is a letter drawn out), from the start of the text or
# after a space or an opening mark; and a further one after it, as in "ق. م" or "ق.م،".
_ONE_LETTER_BEFORE = re.compile(rf"(?:^|(?<=[\s(«\"'“]))[{_ARABIC_LETTER}]{_TATWEEL}?$")
_ONE_LETTER_AFTER = re.compile(rf"\s*[{_ARABIC_LETTER}](?![{_ARABIC_LETTER}{_TATWEEL}])")
_LOOK_BACK = 3  # characters: a letter, a tatweel and what precedes them


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence in `text`, trimmed of white space."""
    spans: list[tuple[int, int]] = []
    for block in _blocks(text):
        start = block[0]
        for match in _END.finditer(text, block[0], block[1]):
            if _is_decimal_or_initial(text, match.start()) or _is_arabic_abbreviation(text, match.start()):
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


def _is_arabic_abbreviation(text: str, i: int) -> bool:
    """Whether the period at `i` ends a one-letter Arabic abbreviation (see the module's docstring)."""
    if text[i] != "." or not (letter := _ONE_LETTER_BEFORE.search(text, max(0, i - _LOOK_BACK), i)):
        return False
    j = letter.start() - 1
    while j >= 0 and text[j].isspace():  # no slice: an upload may hold thousands of these
        j -= 1
    if j < 0 or not text[j].isdigit():
        return True  # a title or initials: a name or more letters follow
    return _ONE_LETTER_AFTER.match(text, i + 1) is not None  # an era: "ق.م", not "م." alone


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end or not any(ch.isalnum() for ch in text[start:end]):
        return None
    return start, end
