"""Thumbs up/down on answers, appended to one JSON Lines file.

The browser and the Slack bot both write here, and the eval suite reads it,
so the record shape is shared: one line per vote.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Literal

Rating = Literal["up", "down"]
_lock = threading.Lock()


def record_feedback(
    path: Path,
    *,
    question: str,
    answer: dict[str, Any],
    rating: Rating,
    channel: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one vote; `answer` is an `Answer.to_dict()` object. Returns the line written."""
    if rating not in ("up", "down"):
        raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
    entry = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "channel": channel,
        "rating": rating,
        "question": question,
        "answer": answer.get("answer", ""),
        "mode": answer.get("mode"),
        "found": answer.get("found"),
        "citations": answer.get("citations", []),
        **(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False)
    with _lock, path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return entry


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """All votes so far (an absent file is no votes)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
