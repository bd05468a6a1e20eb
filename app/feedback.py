"""Thumbs up/down on answers, in one size-bounded JSON Lines file.

The browser and the Slack bot both write here, and the eval suite reads it,
so the record shape is shared: one line per vote. Votes come from anonymous
visitors and scripts, so each visitor has one vote per answer: the same vote
again writes nothing, and a changed vote is written under the same `vote` key
and replaces the earlier one for readers (`read_feedback`). The file is rotated
past `feedback_max_bytes`, keeping `feedback_backups` older files, so votes
cannot fill the disk. A line holds the question, the answer and its citations
(by file name), never a server path nor a raw visitor id (`vote` is a hash).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path, PurePath
from typing import Any, Literal

from app.config import Settings

Rating = Literal["up", "down"]
_CITATION_KEYS = ("n", "source", "title", "date", "text", "score", "url", "publisher")


class FeedbackFile:
    """One feedback file and its rotated backups (`name.1` is the newest backup).

    Remembers the current vote of every key written to the current file, so a
    repeated vote costs no disk; after a rotation that memory starts again.
    """

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path, self.max_bytes, self.backups = path, max_bytes, backups
        self._lock = threading.Lock()
        self._ratings: dict[str, str] | None = None  # vote key -> rating, read lazily

    def write(self, entry: dict[str, Any]) -> bool:
        """Append `entry` unless it repeats its key's current rating; True if written."""
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            ratings = self._current_ratings()
            if ratings.get(entry["vote"]) == entry["rating"]:
                return False
            if self.path.exists() and self.path.stat().st_size + len(line) > self.max_bytes:
                self._rotate()
                ratings = self._ratings = {}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab+") as handle:  # "a": every write lands at the end
                if handle.tell():
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":  # after a write cut short, start a fresh line
                        line = b"\n" + line
                handle.write(line)
            ratings[entry["vote"]] = entry["rating"]
            return True

    def _current_ratings(self) -> dict[str, str]:
        if self._ratings is None:
            self._ratings = {e["vote"]: str(e.get("rating")) for e in _read_lines(self.path) if "vote" in e}
        return self._ratings

    def _rotate(self) -> None:
        """`name` becomes `name.1`, `name.1` becomes `name.2`, …; the oldest beyond `backups` goes."""
        _backup(self.path, self.backups + 1).unlink(missing_ok=True)
        for number in range(self.backups, 0, -1):
            older = _backup(self.path, number - 1)
            if older.exists():
                older.replace(_backup(self.path, number))
        self.path.unlink(missing_ok=True)  # only left when `backups` is 0


_files: dict[Path, FeedbackFile] = {}
_files_lock = threading.Lock()


def _file_for(settings: Settings) -> FeedbackFile:
    """One `FeedbackFile` per path, shared by the browser and the bot in one process."""
    path = settings.feedback_file.resolve()
    with _files_lock:
        if path not in _files:
            _files[path] = FeedbackFile(path, settings.feedback_max_bytes, settings.feedback_backups)
        return _files[path]


def vote_key(channel: str, voter: str, answer_id: str) -> str:
    """Who voted on which answer, as a hash: equal for the same pair, and no visitor id on disk."""
    return hashlib.sha256(f"{channel}\0{voter}\0{answer_id}".encode()).hexdigest()[:24]


def record_feedback(
    settings: Settings,
    *,
    voter: str,
    answer_id: str,
    question: str,
    answer: dict[str, Any],
    rating: Rating,
    channel: str,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Record `voter`'s vote on one answer (`answer` is an `Answer.to_dict()` object).

    Returns False when the vote repeats the visitor's current one (nothing is written).
    """
    if rating not in ("up", "down"):
        raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
    entry = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "channel": channel,
        "vote": vote_key(channel, voter, answer_id),
        "rating": rating,
        "question": question,
        "answer": answer.get("answer", ""),
        "mode": answer.get("mode"),
        "found": answer.get("found"),
        "citations": [_citation(c) for c in answer.get("citations", [])],
        **(extra or {}),
    }
    return _file_for(settings).write(entry)


def _citation(citation: dict[str, Any]) -> dict[str, Any]:
    """The contract's citation fields, its source reduced to a file name."""
    kept = {key: citation[key] for key in _CITATION_KEYS if key in citation}
    if "source" in kept:
        kept["source"] = PurePath(str(kept["source"]).replace("\\", "/")).name
    return kept


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """Every visitor's current vote on each answer, oldest first, backups included.

    A changed vote replaces the earlier one; an absent file is no votes.
    """
    files: list[Path] = []
    number = 1
    while _backup(path, number).exists():
        files.insert(0, _backup(path, number))
        number += 1
    votes: dict[Any, dict[str, Any]] = {}
    for file in files + [path]:
        for position, entry in enumerate(_read_lines(file)):
            key = entry.get("vote", (file, position))  # lines written before votes had keys stay
            votes.pop(key, None)
            votes[key] = entry
    return list(votes.values())


def _read_lines(path: Path) -> list[dict[str, Any]]:
    """The vote objects of one file; a damaged line (a write cut short) is skipped."""
    if not path.exists():
        return []
    entries = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def _backup(path: Path, number: int) -> Path:
    return path if number == 0 else path.with_name(f"{path.name}.{number}")
