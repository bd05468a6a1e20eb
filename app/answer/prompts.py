"""Prompt templates and user-facing wording, loaded from `prompts/`."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from app.config import PROMPTS_DIR

NOT_FOUND_TOKEN = "[[NOT_FOUND]]"
_REFUSAL = re.compile(r"\[*\s*" + re.escape(NOT_FOUND_TOKEN.strip("[]")) + r"\s*\]*")


def without_refusal(text: str) -> tuple[str, bool]:
    """An LLM answer without the token `prompts/answer.txt` asks for when the passages don't
    answer, and whether it had it (models also write it with fewer brackets).

    The token is never shown: a model may write it next to a partial answer, and
    whether that is an answer or a refusal depends on its citations (`LLMAnswerer.draft`).
    """
    stripped, count = _REFUSAL.subn(" ", text)
    return stripped, count > 0


@cache
def template(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")


@cache
def wording(name: str) -> Any:
    """`prompts/<name>.json`, read once: the one loader of every interface's words
    (`messages`, `ui_labels`, `examples`, `slack_messages`)."""
    return json.loads((PROMPTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def message(key: str, language: str) -> str:
    """A fixed message in the question's language (English when it has no translation)."""
    texts = wording("messages")[key]
    return texts.get(language, texts["en"])
