"""What one request may ask: the question and the conversation, checked and cleaned.

Every interface (web chat, `/api/ask`, `ask --jsonl`, Slack) hands the engine
whatever a person or a program sent; the engine runs it through here, so the
rules are the same everywhere and a request costs at most what the settings
allow: a question of `max_question_chars`, the latest `max_history_turns` turns
within `max_history_chars`.

Cleaning drops invisible characters that only get in the way of matching:
control characters (NUL…) and Unicode format characters (zero-width space,
bidi marks, BOM). Kept are ordinary whitespace, the zero-width (non-)joiners
that shape Persian and Urdu words and emoji, and the visible Arabic signs that
are format characters only by category (number sign, end of ayah).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from app.answer.record import QuestionError

_JOINERS = "\u200c\u200d"  # ZWNJ, ZWJ: they change how a word is drawn, so the shown text keeps them
# Format characters (Cf) with a glyph of their own: prepended concatenation marks.
_VISIBLE_FORMAT = "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"


class Turn(BaseModel):
    """One message of a conversation: the one shape of a turn for the engine, `/api/ask`, the
    browser and Slack. Interfaces may hand the engine JSON-shaped dicts; `bound_history`
    validates them into turns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"]
    content: str


History = Sequence[Turn]
_TURNS = TypeAdapter(list[Turn])


class _Invisible(dict[int, None]):
    """A `str.translate` table deleting control (but whitespace) and format characters, filled in
    as they are met: building it whole meant a pass over all 1.1 million code points, half a
    second of every cold `ask`. Only the deleted ones are kept, a few hundred at most."""

    _KEPT = frozenset(_JOINERS + _VISIBLE_FORMAT)

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cf") and not char.isspace() and char not in self._KEPT:
            self[code] = None
            return None
        return code


_INVISIBLE = _Invisible()


def clean(text: str) -> str:
    """`text` without invisible control and format characters, trimmed."""
    return text.translate(_INVISIBLE).strip()


def is_blank(text: str) -> bool:
    """True when a cleaned text holds nothing to search with (only joiners or whitespace)."""
    return not text.translate({ord(ch): None for ch in _JOINERS}).strip()


def _require_utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, e.g. from undecodable command-line bytes or a JSON escape
        raise QuestionError(f"the {what} is not valid text (undecodable characters)") from None


def check_question(question: object, max_chars: int) -> str:
    """The question as it will be searched and shown; raises `QuestionError` if it cannot be asked."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = clean(question)
    if is_blank(text):
        raise QuestionError("the question is empty")
    if len(text) > max_chars:
        raise QuestionError(f"the question is {len(text)} characters long; the limit is {max_chars}")
    _require_utf8(text, "question")
    return text


def bound_history(history: object, max_turns: int, max_chars: int) -> list[Turn]:
    """The latest `max_turns` non-empty turns, cleaned, within `max_chars` characters in all.

    From the newest back, each turn gets at most half the room left, so newer
    turns get more and one long answer never crowds out the question before
    it. A longer conversation is not an error (a chat keeps growing), but it
    costs no more.
    """
    try:
        turns = _TURNS.validate_python(list(history) if isinstance(history, tuple) else history)
    except ValidationError:
        raise QuestionError('the history must be a list of {"role": "user"|"assistant", "content": text}') from None
    kept: list[Turn] = []
    room = max_chars
    for turn in reversed(turns):
        if len(kept) >= max_turns or room <= 0:
            break
        content = clean(turn.content[: max(room // 2, 1)])  # cut first: a huge turn is never cleaned whole
        if is_blank(content):
            continue
        _require_utf8(content, "history")
        kept.append(Turn(role=turn.role, content=content))
        room -= len(content)
    kept.reverse()
    return kept


def with_previous(question: str, previous: str, max_chars: int) -> str:
    """A follow-up joined to the previous question, no longer than a question may be.

    What gets cut is the previous question's end, so the follow-up itself is
    always searched whole.
    """
    room = max_chars - len(question) - 1
    return f"{previous[:room].rstrip()} {question}" if room > 0 else question
