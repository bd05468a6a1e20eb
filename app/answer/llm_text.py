"""A model's raw answer made into the text an answer shows, beyond its markers' forms
(`markers.normalize_markers`): its thinking, an appended sources list and the refusal token.

Reasoning models (DeepSeek-R1, Qwen3, ...) write their thinking in
`<think>…</think>` before the answer. It is neither the answer nor evidence: it
may cite passages it then rejects, so it is held back from the stream (the
engine shows deltas as they come) and its markers never count.

Models also append a "Sources:" list, or Markdown footnote definitions
("[^1]: title"), though the prompt asks for inline markers; the citations show
the sources, so the list goes. Its numbers are not citations: a list names what
the model read, an inline marker what supports a claim. The one exception is an
answer with no inline marker at all: then the list is the only evidence the
model gave of what supports it, so the listed passages are cited at the answer's
end rather than falling back to quoting an answer that was written from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from app.answer.markers import MARKER_SOURCE, cited_numbers, normalize_markers
from app.answer.prompts import NOT_FOUND_TOKEN, without_refusal

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
NOT_FOUND_WORD = NOT_FOUND_TOKEN.strip("[]")  # models also write it with fewer brackets

# A line that heads the sources list: "Sources:", "**References**", "### المصادر", "Sources: [1], [3]".
_SOURCES_HEADING = re.compile(
    r"^[ \t>#*_-]*(?:sources?|references?|citations?|المصادر|مصادر|المراجع|مراجع)[ \t*_]*[:：]?[ \t*_]*"
    rf"(?:{MARKER_SOURCE}[ \t,،;.]*)*$",
    re.IGNORECASE | re.MULTILINE,
)
# Footnote definitions ("[1]: title", from "[^1]: title") running to the answer's end.
_DEFINITIONS = re.compile(rf"(?:^[ \t]*{MARKER_SOURCE}:.*(?:\n|\Z)\s*)+\Z", re.MULTILINE)


class ThinkFilter:
    """The streamed deltas without `<think>…</think>`, which may come split anywhere
    (a tag's "<thi" in one delta, "nk>" in the next).

    `feed` returns what can be shown now and holds back a tail that may be the
    start of a tag; `flush` returns what is still held at the end. An unterminated
    `<think>` (the stream stopped while thinking) hides everything after it.
    """

    def __init__(self) -> None:
        self._held = ""
        self._thinking = False

    def feed(self, delta: str) -> str:
        text, shown = self._held + delta, []
        while True:
            tag = THINK_CLOSE if self._thinking else THINK_OPEN
            at = text.find(tag)
            if at < 0:
                break
            if not self._thinking:
                shown.append(text[:at])
            text = text[at + len(tag):]
            self._thinking = not self._thinking
        keep = next((k for k in range(len(tag) - 1, 0, -1) if text.endswith(tag[:k])), 0)
        self._held = text[len(text) - keep:]
        if not self._thinking:
            shown.append(text[: len(text) - keep])
        return "".join(shown)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return "" if self._thinking else held


class StreamedReply:
    """A model's reply as it streams. Iterating yields what can be shown as it comes; `text`
    is then the whole reply without its thinking, token and lists kept, which `answer_text`
    reads once the stream ends (whether it refuses, and its final text, depend on all of it).

    The stream never shows what the final text will drop: the thinking (`ThinkFilter`), the
    refusal token and a trailing sources list. A line that may open a sources list is held
    until it is clearly not one or the reply ends, and so is a tail that may start the token
    or a tag. A model whose chat template opened the thought in the prompt writes only its
    closing tag: nothing tells the thought from the answer until that tag, so the stream shows
    it meanwhile (never the tag), and the final text (`answer_text`) drops all before it.
    """

    def __init__(self, deltas: Iterable[str]) -> None:
        self._deltas = deltas
        self.text = ""

    def __iter__(self) -> Iterator[str]:
        thinking, held = ThinkFilter(), ""
        for delta in self._deltas:
            kept = thinking.feed(delta)
            self.text += kept
            text = held + kept
            cut = _held_from(text)
            held = text[cut:]
            if shown := _unshown(text[:cut]):
                yield shown
        last = thinking.flush()
        self.text += last
        if rest := _final(_unshown(held + last)):
            yield rest


def _final(tail: str) -> str:
    """The held tail once the reply has ended: without a sources list, if it is one."""
    return _split_sources(tail)[0] if _SOURCES_HEADING.search(tail) or _DEFINITIONS.search(tail) else tail


_HEADING_WORDS = ("sources", "references", "citations", "المصادر", "مصادر", "المراجع", "مراجع")
_LINE_MARKUP = " \t>#*_-"


def _unshown(text: str) -> str:
    return without_refusal(text)[0].replace(THINK_CLOSE, "") if NOT_FOUND_WORD in text or THINK_CLOSE in text else text


def _held_from(text: str) -> int:
    """Where the part of `text` that may still turn into something unshown begins."""
    cut = len(text)
    at = 0
    for line in text.splitlines(keepends=True):  # the first line that may open a sources list
        words = line.strip().lstrip(_LINE_MARKUP).lower()
        still_markup = not words and not line.endswith("\n") and line.strip()  # "**" of "**Sources:**"
        if still_markup or words and any(w.startswith(words[: len(w)]) and (len(words) <= len(w) or not words[len(w)].isalpha())
                                         for w in _HEADING_WORDS):
            cut = at
            break
        at += len(line)
    opened = max(text.rfind("["), text.rfind("<"))  # a marker or a tag not yet closed
    if opened >= 0 and text.find("]" if text[opened] == "[" else ">", opened) < 0:
        while opened and text[opened - 1] == "[":
            opened -= 1
        cut = min(cut, opened)
    token = _TOKEN_TAIL.search(text)  # the refusal token, or its start, or it and some of its closing brackets
    return min(cut, token.start()) if token else cut


_TOKEN_TAIL = re.compile(
    r"\[*\s*(?:" + "|".join(re.escape(NOT_FOUND_WORD[:k]) for k in range(len(NOT_FOUND_WORD), 0, -1)) + r")\s*\]*\Z")


def without_thinking(text: str) -> str:
    """A whole reply without its thinking (the condensed question, which is not streamed)."""
    thinking = ThinkFilter()
    return thinking.feed(text) + thinking.flush()


def answer_text(raw: str, passages: int) -> tuple[str, bool]:
    """The answer to show, markers in the "[n]" form (not yet checked against the
    passages: `citations.resolve_citations` does that), and whether the model wrote
    the refusal token. `raw` comes through `ThinkFilter` already.

    A refusal's sources list is not read as citations: the model said the passages don't answer.
    """
    if THINK_CLOSE in raw:  # a lone closing tag: what came before it was the model's thinking
        raw = raw.rsplit(THINK_CLOSE, 1)[1]
    text, refused = without_refusal(raw)
    body, listed = _split_sources(normalize_markers(text, passages))
    if listed and not refused and body.strip() and not cited_numbers(body):
        body = f"{body} {''.join(f'[{n}]' for n in listed)}"
    return body, refused


def _split_sources(text: str) -> tuple[str, list[int]]:
    """`text` without a trailing sources list, and the numbers the list names."""
    found = _SOURCES_HEADING.search(text) or _DEFINITIONS.search(text)
    if found is None:
        return text, []
    return text[: found.start()].rstrip(), cited_numbers(text[found.start():])
