"""Prompt templates and user-facing wording, loaded from `prompts/`."""

from __future__ import annotations

import json
from functools import cache, lru_cache

from app.config import PROMPTS_DIR

NOT_FOUND_TOKEN = "[[NOT_FOUND]]"


def is_refusal(text: str) -> bool:
    """True when an LLM answer says, as `prompts/answer.txt` asks, that the passages don't answer."""
    return NOT_FOUND_TOKEN.strip("[]") in text


@cache
def template(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _messages() -> dict[str, dict[str, str]]:
    return json.loads((PROMPTS_DIR / "messages.json").read_text(encoding="utf-8"))


def message(key: str, language: str) -> str:
    """A fixed message in the question's language (English when it has no translation)."""
    texts = _messages()[key]
    return texts.get(language, texts["en"])
