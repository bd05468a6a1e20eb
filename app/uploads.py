"""Articles added by people (the browser upload), checked before they touch the corpus.

A bad file must get a clear reason and change nothing, and a file name chosen by
a stranger must never decide where bytes land: each upload must be a file the
upload endpoint itself stored in its inbox folder (a request naming any other
server path is refused), is then read with the same loader the index uses (so
empty, binary, non-UTF-8 and oversized files are refused with its messages),
copied under a safe name inside `corpus_dir` without ever replacing an existing
article, and only then indexed. Reasons name the file, never a server folder:
they are shown to anonymous visitors (the full path goes to the log).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app.ingest.articles import SUPPORTED, ArticleError, load_article
from app.ingest.pipeline import IngestStatus

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = SUPPORTED
_MAX_STEM_CHARS = 80
# Letters and digits of any script (Arabic names stay readable), plus a few separators.
_UNSAFE = re.compile(r"[^\w\-. ]+", re.UNICODE)


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


def save_article(corpus_dir: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """Write `data` under a safe, unused name in `corpus_dir`; never overwrite.

    Returns the path and whether it is new (False: an identical file is already there).
    """
    corpus = corpus_dir.resolve()
    corpus.mkdir(parents=True, exist_ok=True)
    clean = Path(safe_name(name))
    for attempt in range(1, 1000):
        candidate = clean.name if attempt == 1 else f"{clean.stem}-{attempt}{clean.suffix}"
        target = (corpus / candidate).resolve()
        if target.parent != corpus:  # belt and braces: safe_name already removed separators
            raise UploadError(f"{name}: refused file name")
        if target.exists() and target.read_bytes() == data:
            return target, False
        try:
            with target.open("xb") as handle:  # "x": fail rather than replace a file
                handle.write(data)
        except FileExistsError:
            continue
        return target, True
    raise UploadError(f"{name}: too many files with this name already")


def _received(upload: Path, inbox: Path) -> Path:
    """Where the upload really is; refused unless that is a file inside `inbox`.

    Symlinks are resolved first, so a link in the inbox cannot point elsewhere.
    """
    real = upload.resolve()
    if not real.is_relative_to(inbox.resolve()) or not real.is_file():
        log.warning("refused an upload naming %s: not in the upload folder %s", upload, inbox)
        raise UploadError(f"{upload.name}: refused: this file was not received through the upload")
    return real


def _accept(corpus_dir: Path, upload: Path, max_bytes: int) -> tuple[Path, bool]:
    """Check one received file and copy it into the corpus folder."""
    if upload.suffix.lower() not in ALLOWED_SUFFIXES:
        raise UploadError(f"{upload.name}: only {', '.join(ALLOWED_SUFFIXES)} files can be added")
    size = upload.stat().st_size
    if size > max_bytes:  # before reading it
        raise UploadError(f"{upload.name}: {size:,} bytes is over the {max_bytes:,}-byte upload limit")
    try:
        load_article(upload, max_bytes)
    except ArticleError as exc:
        raise UploadError(str(exc)) from None
    return save_article(corpus_dir, upload.name, upload.read_bytes())


def add_articles(
    corpus_dir: Path,
    engine: _Ingests,
    uploads: Sequence[Path],
    *,
    inbox: Path,
    max_bytes: int,
    max_files: int,
    progress: Callable[[IngestStatus], None] | None = None,
) -> UploadOutcome:
    """Validate, save and index uploaded files (named as the person sent them).

    Only files inside `inbox` (where the upload endpoint stores what it
    receives) are read, at most `max_files` of them. Good files are indexed
    even when others in the same upload are refused; a file the indexing
    rejects is removed again, so the corpus folder only holds articles that
    are searchable.
    """
    outcome = UploadOutcome()
    saved: dict[str, tuple[Path, str, bool]] = {}
    for number, upload in enumerate(uploads, start=1):
        if number > max_files:
            outcome.rejected.append((upload.name, f"{upload.name}: at most {max_files} files can be added at once"))
            continue
        try:
            path, is_new = _accept(corpus_dir, _received(upload, inbox), max_bytes)
        except UploadError as exc:
            outcome.rejected.append((upload.name, str(exc)))
            continue
        except OSError as exc:
            outcome.rejected.append((upload.name, f"{upload.name}: could not be read ({exc.strerror})"))
            continue
        saved[path.name] = (path, upload.name, is_new)
    if not saved:
        return outcome
    # Identical files go in too: a no-op if they are indexed already. The engine lets one
    # writer in at a time, and questions go on meanwhile.
    report = engine.ingest([path for path, _, _ in saved.values()], progress=progress)
    failed = {Path(str(file)).name: message for file, message in report.errors}
    for name, (path, sent_name, is_new) in saved.items():
        if name in failed:
            if is_new:
                path.unlink(missing_ok=True)
            log.info("upload %s (saved as %s) refused by the indexer: %s", sent_name, path, failed[name])
            outcome.rejected.append((sent_name, failed[name]))
        else:
            (outcome.added if is_new else outcome.unchanged).append(name)
    return outcome


def discard_received(uploads: Sequence[Path], inbox: Path) -> None:
    """Delete handled uploads from `inbox`, with the per-upload folders they leave empty.

    Anything outside `inbox` is left alone: these paths came from a client.
    """
    root = inbox.resolve()
    for upload in uploads:
        real = upload.resolve()
        if not real.is_relative_to(root) or real == root:
            continue
        real.unlink(missing_ok=True)
        if real.parent != root:
            try:
                real.parent.rmdir()
            except OSError:  # not empty (another file in it) or already gone
                pass
