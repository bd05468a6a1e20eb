"""An `Answer` as a Slack message: Block Kit blocks plus the plain fallback text.

Slack rejects a whole message when one limit is broken (a section over 3,000
characters, more than 50 blocks, a button value over 2,000), so every piece of
text here is cut to its limit on whole words: an Arabic word is never split,
nor a `[n]` marker separated from the word it cites.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from app.answer.markers import MARKER_SOURCE
from app.answer.prompts import message, wording
from app.answer.record import Answer, Citation
from app.text.arabic import detect_language

SECTION_LIMIT = 3000  # characters in one section's text
MAX_BLOCKS = 50  # blocks in one message
BUTTON_VALUE_LIMIT = 2000
ANSWER_CHARS = 9000  # longer answers are cut (Slack folds long messages anyway)
TITLE_CHARS = 120
EXCERPT_CHARS = 220

FEEDBACK_BLOCK_ID = "newsqa_feedback"
FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"

Words = Mapping[str, str]
Block = dict[str, Any]

# Break at whitespace, except the space that ties a `[n]` marker to its word.
_BREAK = re.compile(rf"(\s+(?!{MARKER_SOURCE}))")  # a marker stays with the words it cites
_SLACK_REF = re.compile(r"<([^<>]*)>")


def _messages() -> dict[str, dict[str, str]]:
    return wording("slack_messages")


def words_for(text: str) -> Words:
    """The bot's fixed wording in the language of `text` (the engine answers in it too)."""
    return _messages()[detect_language(text)]


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_len(text: str) -> int:
    return len(escape(text))


def _hard_cut(text: str, limit: int) -> int:
    """An index ≤ limit that does not strand a combining mark (Arabic harakat) from its letter."""
    cut = limit
    while 0 < cut < len(text) and unicodedata.combining(text[cut]):
        cut -= 1
    return cut or limit


def cut_words(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` shortened to at most `limit` characters, ending on a whole word plus `ellipsis`."""
    text = text.strip()
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    breaks = [m.start() for m in _BREAK.finditer(text, 1, room + 1)]
    cut = breaks[-1] if breaks else _hard_cut(text, room)  # only a first word longer than `limit` is split
    return text[:cut].rstrip() + ellipsis


def split_words(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """`text` in pieces of at most `limit` (as `measure` counts), split between words."""
    pieces: list[str] = []
    current, size = "", 0
    tokens = _BREAK.split(text.strip())
    for word, gap in zip(tokens[::2], tokens[1::2] + [""], strict=True):
        while measure(word) > limit:  # a "word" longer than a whole piece: cut it
            if current:
                pieces.append(current.rstrip())
                current, size = "", 0
            cut = _hard_cut(word, limit)
            while measure(word[:cut]) > limit:
                cut = _hard_cut(word, cut - 1)
            pieces.append(word[:cut])
            word = word[cut:]
        if current and size + measure(word) > limit:
            pieces.append(current.rstrip())
            current, size = "", 0
        current += word + gap
        size += measure(word + gap)
    if current.strip():
        pieces.append(current.rstrip())
    return pieces


def from_slack(text: str, bot_user_id: str | None = None) -> str:
    """Slack message text as plain text: the bot's own mention dropped, links and names readable."""

    def readable(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "" if target[1:] == bot_user_id else "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return label or target

    plain = _SLACK_REF.sub(readable, text)
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", plain).strip()


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(t) for t in texts]}


def _plain_answer(answer: Answer) -> str:
    return cut_words(answer.answer, ANSWER_CHARS) or message("not_found", detect_language(answer.question))


def answer_text(answer: Answer) -> str:
    """The message text: notifications, search and thread history read this, not the blocks.

    Slack reads it as mrkdwn too, so it is escaped like the blocks: an LLM's
    `<!channel>` must not notify a whole channel.
    """
    return escape(_plain_answer(answer))


def _source_block(citation: Citation) -> Block:
    """`[n] title · date · `file`` over a short excerpt (the quoted sentence when there is one)."""
    head = f"*[{citation.n}]*"
    title = escape(cut_words(citation.title, TITLE_CHARS)).replace("|", "¦")  # `|` would end a link's text
    if title and citation.url:  # ingest kept only http(s) addresses without spaces, `<`, `>` or `|`
        head += f" *<{escape(citation.url)}|{title}>*"
    elif title:
        head += f" *{title}*"
    meta = " · ".join(part for part in (escape(citation.date), escape(citation.publisher),
                                        f"`{citation.source.replace('`', '')}`") if part)
    passage = citation.quotes[0] if citation.quotes else citation.text
    excerpt = escape(cut_words(" ".join(passage.split()), EXCERPT_CHARS))
    return _context(f"{head} {meta}\n{excerpt}")


def _source_blocks(citations: list[Citation], words: Words, room: int) -> list[Block]:
    """A heading and one compact block per source, within `room` blocks."""
    if not citations or room < 2:
        return []
    shown = citations if len(citations) + 1 <= room else citations[: room - 2]
    blocks = [_context(words["sources"])] + [_source_block(c) for c in shown]
    if len(shown) < len(citations):
        blocks.append(_context(escape(words["more_sources"].format(count=len(citations) - len(shown)))))
    return blocks


def feedback_value(key: str, question: str, answer: Answer) -> str:
    """The button payload: a key to the remembered answer, plus enough to record a vote without it."""
    data: dict[str, Any] = {"k": key, "m": answer.mode, "f": answer.found, "q": question}
    value = json.dumps(data, ensure_ascii=False)
    while len(value) > BUTTON_VALUE_LIMIT:
        data["q"] = cut_words(data["q"], len(data["q"]) - (len(value) - BUTTON_VALUE_LIMIT) - 1)
        value = json.dumps(data, ensure_ascii=False)
    return value


def read_feedback_value(value: str) -> dict[str, Any]:
    """The inverse of `feedback_value`; raises ValueError on anything else."""
    data = json.loads(value)
    if not isinstance(data, dict) or not isinstance(data.get("k"), str):
        raise ValueError("not a newsqa feedback button value")
    return data


def _feedback_block(value: str, words: Words) -> Block:
    def button(emoji: str, action_id: str, label: str) -> Block:
        return {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": emoji, "emoji": True},
            "value": value,
            "accessibility_label": label,
        }

    return {
        "type": "actions",
        "block_id": FEEDBACK_BLOCK_ID,
        "elements": [
            button("👍", FEEDBACK_UP, words["helpful"]),
            button("👎", FEEDBACK_DOWN, words["not_helpful"]),
        ],
    }


def answer_blocks(answer: Answer, words: Words, feedback: str | None = None) -> list[Block]:
    """The short answer in bold (when there is one), the answer with its `[n]` markers, a mode label,
    the sources, then 👍/👎 (when `feedback`)."""
    pieces = split_words(_plain_answer(answer), SECTION_LIMIT, _escaped_len)
    blocks = [_section(f"*{escape(cut_words(answer.short_answer, EXCERPT_CHARS))}*")] if answer.short_answer else []
    blocks += [_section(escape(piece)) for piece in pieces]
    # Not found: the engine's text says the articles don't cover it; "quoted from the articles" would mislead.
    notes = [words[answer.mode]] if answer.found else []
    if answer.notice:
        notes.append("⚠️ " + escape(cut_words(answer.notice, SECTION_LIMIT)))
    if notes:
        blocks.append(_context(*notes))
    tail = [_feedback_block(feedback, words)] if feedback else []
    blocks += _source_blocks(answer.citations, words, MAX_BLOCKS - len(blocks) - len(tail))
    return blocks + tail


def is_answer_message(message: Mapping[str, Any]) -> bool:
    """True for a message this bot posted as an answer (placeholders and apologies have no 👍/👎)."""
    return any(block.get("block_id") == FEEDBACK_BLOCK_ID for block in message.get("blocks") or ())
