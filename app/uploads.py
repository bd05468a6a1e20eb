"""Articles added by people (the browser upload), checked before they touch the corpus.

A bad file must get a clear reason and change nothing, and a file name chosen by
a stranger must never decide where bytes land: every upload is validated in
memory, renamed to a safe name inside `settings.corpus_dir`, never overwrites an
existing article, and only then handed to the same ingestion as the seeds.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

ALLOWED_SUFFIXES = (".txt", ".md", ".html")
_MAX_STEM_CHARS = 80
# Letters and digits of any script (Arabic names stay readable), plus a few separators.
_UNSAFE = re.compile(r"[^\w\-. ]+", re.UNICODE)
# Only real text controls may appear in an article; anything else means binary.
_TEXT_CONTROLS = {"\t", "\n", "\r", "\f"}
_ingest_lock = threading.Lock()


class UploadError(ValueError):
    """Why one uploaded file was refused. Safe to show to the person who sent it."""


class _Ingests(Protocol):
    def ingest(self, paths: Sequence[Path] | None = None, prune: bool = False, progress: Any = None) -> Any: ...


@dataclass
class UploadOutcome:
    """What happened to each file of one upload."""

    added: list[str] = field(default_factory=list)  # names as saved in the corpus folder
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (name as sent, reason)
    unchanged: list[str] = field(default_factory=list)  # identical to an article already there

    @property
    def ok(self) -> bool:
        return bool(self.added or self.unchanged) and not self.rejected


def safe_name(name: str) -> str:
    """A file name that stays inside one folder, whatever a client sent.

    Drops any directory part (both slash kinds), control and shell-special
    characters and leading dots; keeps Arabic and Latin letters.
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("_", stem).strip(" ._-")[:_MAX_STEM_CHARS].strip(" ._-") or "article"
    suffix = _UNSAFE.sub("", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def decode_article(name: str, data: bytes, max_bytes: int) -> str:
    """The text of one uploaded file, or `UploadError` saying what is wrong with it."""
    suffix = Path(safe_name(name)).suffix
    if suffix not in ALLOWED_SUFFIXES:
        allowed = ", ".join(ALLOWED_SUFFIXES)
        raise UploadError(f"{name}: only {allowed} files can be added (got {suffix or 'no extension'})")
    if len(data) > max_bytes:
        raise UploadError(f"{name}: too large ({len(data):,} bytes; the limit is {max_bytes:,})")
    if b"\x00" in data:
        raise UploadError(f"{name}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(
            f"{name}: not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8 and try again"
        ) from None
    if not text.strip():
        raise UploadError(f"{name}: the file is empty")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROLS)
    if controls > max(2, len(text) // 200):
        raise UploadError(f"{name}: looks like a binary file, not text")
    return text


def save_article(corpus_dir: Path, name: str, text: str) -> tuple[Path, bool]:
    """Write `text` under a safe, unused name in `corpus_dir`; never overwrite.

    Returns the path and whether it is new (False: an identical article exists).
    """
    corpus = corpus_dir.resolve()
    corpus.mkdir(parents=True, exist_ok=True)
    clean = Path(safe_name(name))
    data = text.encode("utf-8")
    for attempt in range(1, 1000):
        candidate = clean.name if attempt == 1 else f"{clean.stem}-{attempt}{clean.suffix}"
        target = (corpus / candidate).resolve()
        if target.parent != corpus:  # belt and braces: safe_name already removed separators
            raise UploadError(f"{name}: refused file name")
        if target.exists() and target.read_bytes() == data:
            return target, False
        try:
            with target.open("xb") as handle:  # "x": fails rather than replace a file
                handle.write(data)
        except FileExistsError:
            continue
        return target, True
    raise UploadError(f"{name}: too many files with this name already")


def add_articles(
    corpus_dir: Path, engine: _Ingests, files: Sequence[tuple[str, Path]], max_bytes: int
) -> UploadOutcome:
    """Validate, save and index uploaded files; each is `(name as sent, where its bytes are)`.

    Good files are indexed even when others in the same upload are refused; a
    file the ingestion rejects is removed again so the corpus folder only holds
    articles that are searchable.
    """
    outcome = UploadOutcome()
    saved: dict[str, tuple[Path, str, bool]] = {}
    for sent_name, source in files:
        try:
            size = source.stat().st_size
            if size > max_bytes:  # don't read a huge file just to refuse it
                raise UploadError(f"{sent_name}: too large ({size:,} bytes; the limit is {max_bytes:,})")
            text = decode_article(sent_name, source.read_bytes(), max_bytes)
            path, is_new = save_article(corpus_dir, sent_name, text)
        except UploadError as exc:
            outcome.rejected.append((sent_name, str(exc)))
            continue
        except OSError as exc:
            outcome.rejected.append((sent_name, f"{sent_name}: could not be read ({exc.strerror})"))
            continue
        saved[path.name] = (path, sent_name, is_new)
    if not saved:
        return outcome
    with _ingest_lock:  # identical files go in too: indexing them again is a no-op if already there
        report = engine.ingest([path for path, _, _ in saved.values()])
    failed = {Path(str(file)).name: message for file, message in report.errors}
    for name, (path, sent_name, is_new) in saved.items():
        if name in failed:
            if is_new:
                path.unlink(missing_ok=True)
            outcome.rejected.append((sent_name, f"{sent_name}: {failed[name]}"))
        else:
            (outcome.added if is_new else outcome.unchanged).append(name)
    return outcome
