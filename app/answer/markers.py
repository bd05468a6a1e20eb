"""Citation markers in answer text: "[1]", "[1, 3]", "[1،3]", "[١]", "[1-3]".

One pattern and one parser for every reader of answers: the citation checker,
the evaluation's scorers, the browser's links and Slack's line breaking.

Models do not all write that form, so an LLM's raw answer first goes through
`normalize_markers`, which rewrites the forms real models use to it; everything
after (renumbering, links, scoring) then knows one form only.
"""

from __future__ import annotations

import re

from app.text.arabic import WESTERN_DIGITS

_NUMBER = r"[0-9\u0660-\u0669]+(?:\s*[-–]\s*[0-9\u0660-\u0669]+)?"
_LIST = rf"{_NUMBER}(?:\s*[,،;]\s*{_NUMBER})*"
MARKER = re.compile(rf"\[\s*({_LIST})\s*\]")  # group 1: the numbers
MARKER_SOURCE = rf"\[\s*{_LIST}\s*\]"  # the same, without a group, to build other patterns from
_SPACE = re.compile(r"\s+")
LONGEST_RANGE = 20  # "[1-300]" is not a citation

# "【1】" (Qwen, DeepSeek), "［1］", "[^1]" (Markdown footnotes), "[Source 1]", "[Passage 2, 3]", "[المصدر ١]".
_LABEL = (r"(?:\^|(?:sources?|passages?|references?|refs?|documents?|docs?"
          r"|المصدر|مصدر|المصادر|مصادر|المقطع|مقطع|المقاطع|مقاطع|المرجع|مرجع)\s*[:#]?\s*)")
_LABELLED_LIST = rf"{_LABEL}?{_NUMBER}(?:\s*[,،;]\s*{_LABEL}?{_NUMBER})*"
_BRACKETED = re.compile(rf"[\[【［]\s*({_LABELLED_LIST})\s*[\]】］]", re.IGNORECASE)
_LABELS = re.compile(_LABEL, re.IGNORECASE)
# "(2)" after a word and before punctuation or the line's end; see `normalize_markers`.
_PARENTHESISED = re.compile(rf"(?<=\S)[ \t]*\(\s*({_LIST})\s*\)(?=[ \t]*(?:[.,،؛;:!?؟)(]|$))", re.MULTILINE)


def marker_numbers(group: str) -> list[int]:
    """A marker's inside, "1, 3-4" -> [1, 3, 4]; a range longer than LONGEST_RANGE yields nothing."""
    numbers: list[int] = []
    for item in re.split(r"\s*[,،;]\s*", group.translate(WESTERN_DIGITS).strip()):
        ends = [int(x) for x in re.split(r"\s*[-–]\s*", item)]
        if len(ends) == 2 and 0 <= ends[1] - ends[0] <= LONGEST_RANGE:
            numbers += range(ends[0], ends[1] + 1)
        elif len(ends) == 1:
            numbers.append(ends[0])
    return numbers


def cited_numbers(text: str) -> list[int]:
    """The citation numbers in `text`, in order of first use."""
    return list(dict.fromkeys(n for match in MARKER.finditer(text) for n in marker_numbers(match.group(1))))


def strip_markers(text: str) -> str:
    return _SPACE.sub(" ", MARKER.sub(" ", text)).strip()


def normalize_markers(text: str, passages: int) -> str:
    """`text` with the citation forms models write rewritten to "[n]"; `passages` is how many they were given.

    Bracketed forms are unambiguous and always rewritten. A number in parentheses
    is prose as often as a citation ("(2025)", "(1) first, (2) second", "Article (3)
    of the law"), so "(n)" is read as a citation only when all of these hold:
    - the answer has no bracketed marker at all: a model that cites with brackets
      means something else by parentheses;
    - it follows a word on the same line (a list's "(1) first" begins its line)
      and is followed by punctuation, another "(", or the line's end — where a
      citation sits, not where a list number or "Article (3) of" does;
    - every number in it names a passage (1..passages): years and other counts
      fall outside the few passages an answer gets.
    What is left over is "under Article (3)." with 3 passages or more; then
    passage 3 becomes a citation that `resolve_citations` checks like any other.
    """
    text = _BRACKETED.sub(_bracketed, text)
    if MARKER.search(text):
        return text

    def cite(match: re.Match[str]) -> str:
        numbers = marker_numbers(match.group(1))
        if numbers and all(1 <= n <= passages for n in numbers):
            return _set_off(match, match.group(1))
        return match.group(0)

    return _PARENTHESISED.sub(cite, text)


def _bracketed(match: re.Match[str]) -> str:
    return _set_off(match, _LABELS.sub("", match.group(1)))


def _set_off(match: re.Match[str], numbers: str) -> str:
    """The marker "[numbers]" for `match`, a space from a word it was written against
    ("target【1】", "target (1)"), none after another marker or a line's start."""
    before = match.string[match.start() - 1] if match.start() else " "
    return f"{'' if before.isspace() or before in '()[]】］' else ' '}[{numbers}]"
