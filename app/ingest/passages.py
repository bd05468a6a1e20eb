"""Cut an article body into passages on sentence boundaries, sized in tokens.

Passages are what get embedded, retrieved and cited. Sizes are counted with
tiktoken in the configured model's encoding (from the cache inside llama-index,
so nothing downloads); consecutive passages share a few sentences of overlap so
a fact at a boundary is whole in at least one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import tiktoken

from app.text.sentences import sentence_spans

Span = tuple[int, int]


@dataclass
class PassageDraft:
    index: int
    text: str  # original characters of the body, sentence-aligned
    start: int  # offset in the body
    sentences: list[Span]  # sentence offsets relative to `text`


@lru_cache(maxsize=4)
def encoding(name: str) -> tiktoken.Encoding:
    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding_name: str) -> int:
    return len(encoding(encoding_name).encode(text, disallowed_special=()))


def make_passages(body: str, encoding_name: str, max_tokens: int, overlap_tokens: int) -> list[PassageDraft]:
    spans = [piece for span in sentence_spans(body) for piece in _fit(body, span, encoding_name, max_tokens)]
    if not spans:
        return []
    sizes = [count_tokens(body[s:e], encoding_name) for s, e in spans]
    drafts: list[PassageDraft] = []
    first = 0
    while first < len(spans):
        last, total = first, sizes[first]
        while last + 1 < len(spans) and total + sizes[last + 1] <= max_tokens:
            last += 1
            total += sizes[last]
        drafts.append(_draft(body, spans[first : last + 1], len(drafts)))
        if last + 1 >= len(spans):
            break
        # Step back over trailing sentences that fit in the overlap, always moving forward.
        nxt, carried = last + 1, 0
        while nxt - 1 > first and carried + sizes[nxt - 1] <= overlap_tokens:
            nxt -= 1
            carried += sizes[nxt]
        first = nxt
    return drafts


def _draft(body: str, spans: list[Span], index: int) -> PassageDraft:
    start, end = spans[0][0], spans[-1][1]
    return PassageDraft(
        index=index,
        text=body[start:end],
        start=start,
        sentences=[(s - start, e - start) for s, e in spans],
    )


_WORD = re.compile(r"\S+")


def _fit(body: str, span: Span, encoding_name: str, max_tokens: int) -> list[Span]:
    """Split a sentence longer than a passage at word boundaries."""
    if count_tokens(body[span[0] : span[1]], encoding_name) <= max_tokens:
        return [span]
    pieces: list[Span] = []
    piece_start, used = span[0], 0
    for word in _WORD.finditer(body, span[0], span[1]):
        size = count_tokens(word.group() + " ", encoding_name)
        if used and used + size > max_tokens:
            pieces.append((piece_start, word.start()))
            piece_start, used = word.start(), 0
        used += size
    pieces.append((piece_start, span[1]))
    return [(s, e) for s, e in pieces if body[s:e].strip()]
