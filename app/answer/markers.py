"""Citation markers in answer text: "[1]", "[1, 3]", "[1،3]", "[١]", "[1-3]".

One pattern and one parser for every reader of answers: the citation checker,
the evaluation's scorers, the browser's links and Slack's line breaking.
"""

from __future__ import annotations

import re

_NUMBER = r"[0-9\u0660-\u0669]+(?:\s*[-–]\s*[0-9\u0660-\u0669]+)?"
_LIST = rf"{_NUMBER}(?:\s*[,،;]\s*{_NUMBER})*"
MARKER = re.compile(rf"\[\s*({_LIST})\s*\]")  # group 1: the numbers
MARKER_SOURCE = rf"\[\s*{_LIST}\s*\]"  # the same, without a group, to build other patterns from
_ARABIC_DIGITS = str.maketrans({chr(0x0660 + i): str(i) for i in range(10)})
_SPACE = re.compile(r"\s+")
LONGEST_RANGE = 20  # "[1-300]" is not a citation


def marker_numbers(group: str) -> list[int]:
    """A marker's inside, "1, 3-4" -> [1, 3, 4]; a range longer than LONGEST_RANGE yields nothing."""
    numbers: list[int] = []
    for item in re.split(r"\s*[,،;]\s*", group.translate(_ARABIC_DIGITS).strip()):
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
