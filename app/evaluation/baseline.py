"""`--baseline PREV.json`: a previous run's eval.json, checked before anything runs.

Only what `report.compare_runs` reads is required, so reports from older
versions of the runner still compare; a field this runner never writes means
the file is something else, and is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from app.evaluation.configs import ConfigError
from app.evaluation.files import describe, read_json


class _Record(BaseModel):
    """A per-question record: its id and verdict are compared; the rest is whatever the scorers wrote."""

    model_config = ConfigDict(extra="allow")

    id: str
    correct: bool | None = None


class _Run(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    summary: dict[str, dict[str, Any]]
    records: list[_Record]
    mode: str | None = None
    retrieval: str | None = None
    stats: dict[str, Any] | None = None
    ready_seconds: float | None = None
    seconds: float | None = None
    news: dict[str, Any] | None = None  # the engine on the news-ar subset, when it ran


class _Squad(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retrieval: dict[str, dict[str, Any]]
    answers: dict[str, Any]
    file: str | None = None
    paragraphs: int | None = None
    questions: int | None = None
    errors: int | None = None
    ingest_errors: list[Any] | None = None
    answer_config: str | None = None
    index_seconds: float | None = None
    seconds: float | None = None
    records: list[dict[str, Any]] | None = None


class Baseline(BaseModel):
    """The shape of an eval.json as far as a comparison needs it."""

    model_config = ConfigDict(extra="forbid")

    runs: list[_Run]
    version: int | None = None
    created: str | None = None
    files: list[str] | None = None
    limit: int | None = None
    settings: dict[str, Any] | None = None
    squad: _Squad | None = None
    news: dict[str, Any] | None = None
    news_skipped: int | None = None
    seconds: float | None = None
    gates: list[dict[str, Any]] | None = None
    comparison: dict[str, Any] | None = None


def load_baseline(path: Path) -> dict[str, Any]:
    """The previous eval.json as written (what `compare_runs` reads), once its shape is checked."""
    data = read_json(path, ConfigError)
    try:
        Baseline.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"--baseline {path}: not an eval.json written by this runner "
                          f"({describe(exc, 'the file')})") from exc
    return data
