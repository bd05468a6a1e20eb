"""The quality gate: bounds on the run's metrics, read from a thresholds file.

A gate that fails is "the product got worse" (exit 1); a gate that cannot be
checked is a `ConfigError` (exit 2), never a silent pass. The file is checked
before anything runs, so a misspelt metric costs no evaluation. Like the SQuAD
gates, those on the time groups apply only when their set ran (`--news`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainValidator, model_validator

from app.evaluation.configs import ConfigError
from app.evaluation.files import read_model
from app.evaluation.report import ALL_METRICS, SQUAD_ANSWERS, SQUAD_RETRIEVAL
from app.evaluation.scoring import is_time_group


def _number(value: Any) -> int | float:
    """A JSON number kept as written (a gate of 0 reads "max 0"); Python counts true as 1, the file must not."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise ValueError("must be a number")


# Unset is None; a null written in the file is refused like any other non-number.
Number = Annotated[int | float | None, PlainValidator(_number)]


def _metric(known: list[tuple[str, str]]) -> AfterValidator:
    names = [key for key, _ in known]

    def check(name: str) -> str:
        if name not in names:
            raise ValueError(f"has an unknown metric {name!r} (known: {', '.join(names)})")
        return name

    return AfterValidator(check)


class Bound(BaseModel):
    """One gate, written `{"min": x}` or `{"max": x}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: Number = None
    max: Number = None

    @model_validator(mode="before")
    @classmethod
    def _one_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) == 1:
            return data  # which key, and its value, the fields check
        raise ValueError('is not a bound (expected {"min": x} or {"max": x})')

    @property
    def op(self) -> str:
        return "min" if self.min is not None else "max"

    @property
    def limit(self) -> int | float:
        limit = self.min if self.min is not None else self.max
        assert limit is not None, "_one_key lets exactly one bound through"
        return limit


SeedGates = dict[str, dict[Annotated[str, _metric(ALL_METRICS)], Bound]]  # group -> metric -> bound
RetrievalGates = dict[Annotated[str, _metric(SQUAD_RETRIEVAL)], Bound]
AnswerGates = dict[Annotated[str, _metric(SQUAD_ANSWERS)], Bound]


class SquadGates(BaseModel):
    """Gates on a SQuAD-format set, applied only when `--squad` runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dense: RetrievalGates = {}
    bm25: RetrievalGates = {}
    hybrid: RetrievalGates = {}
    answers: AnswerGates = {}
    # The translated questions (`--squad-translations`), applied only when they are asked.
    translated_hybrid: RetrievalGates = {}
    translated_answers: AnswerGates = {}


class Thresholds(BaseModel):
    """`{mode: {group: {metric: bound}}, "squad": {...}}`; a mode that is not run is skipped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str | None = None
    extractive: SeedGates = {}
    llm: SeedGates = {}
    squad: SquadGates = SquadGates()


def load_thresholds(path: Path) -> Thresholds:
    return read_model(path, Thresholds, ConfigError)


def _scopes(result: dict[str, Any], thresholds: Thresholds) -> Iterator[tuple[str, dict[str, Any], dict[str, Bound]]]:
    """(scope, measured values, its gates) for every gated part of this run."""
    for run in result["runs"]:
        for group, gates in getattr(thresholds, run["mode"]).items():
            if is_time_group(group) and "news" not in run:
                continue  # most time questions are on the news-ar subset: gated only when it ran (--news)
            if group not in run["summary"]:
                raise ConfigError(f"thresholds: no group {group!r} in {run['label']} "
                                  f"(have {', '.join(run['summary'])})")
            yield f"{run['label']} {group}", run["summary"][group], gates
    if squad := result.get("squad"):
        for group, gates in dict(thresholds.squad).items():
            part, kind = ("translated", group.removeprefix("translated_")) if group.startswith("translated_") \
                else ("", group)
            if part and part not in squad:
                continue  # the translated questions are gated only when they were asked
            values = squad[part] if part else squad
            yield f"squad {group}", values["answers"] if kind == "answers" else values["retrieval"][kind], gates


def check_gates(result: dict[str, Any], thresholds: Thresholds) -> list[dict[str, Any]]:
    """Every gate that applies to this run, with its value and whether it held."""
    results = []
    scopes = list(_scopes(result, thresholds))  # a missing group is reported before any unmeasured metric
    for scope, values, gates in scopes:
        for metric, bound in gates.items():
            value = values[metric]
            if value is None:
                raise ConfigError(f"thresholds: {scope} {metric} was not measured in this run")
            passed = value >= bound.limit if bound.op == "min" else value <= bound.limit
            results.append({"scope": scope, "metric": metric, "op": bound.op, "bound": bound.limit,
                            "value": value, "passed": passed})
    return results
