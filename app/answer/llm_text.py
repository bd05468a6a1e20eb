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

from app.answer.markers import MARKER_SOURCE, cited_numbers, normalize_markers
from app.answer.prompts import without_refusal

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"

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
