"""The eval's input files are hand-edited, so every problem must read as one clear line.

`read_json` names the file and line of invalid JSON; `read_model` and `describe`
turn pydantic's complaints into the file's own words ('facts[0]' must be a list),
raised as the caller's error so the CLI prints one line and exits 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)

# pydantic's error type -> what the value must be, in the words of someone editing the file
_MUST_BE = {
    "string_type": "a string",
    "string_too_short": "a non-empty string",
    "string_pattern_mismatch": "a non-empty string",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "too_short": "a non-empty list",
    "dict_type": "a JSON object",
    "model_type": "a JSON object",
}


def read_text(path: Path, error: type[Exception]) -> str:
    """A UTF-8 file's text; an unreadable one raises `error` naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read ({exc})") from exc


def read_json(path: Path, error: type[Exception]) -> Any:
    """A JSON file's content; an unreadable or invalid file raises `error` naming the file and line."""
    text = read_text(path, error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from exc


def _path(loc: tuple[int | str, ...]) -> str:
    """A field as the file writes it: `facts[0]`, `extractive.overall.hit@1`."""
    if loc[-1:] == ("[key]",):  # a dict key that failed: name the dict it is in
        loc = loc[:-2]
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _one(error: Any, whole: str) -> str:
    path = _path(error["loc"])
    if error["type"] == "value_error":  # our own validators say what is wrong ("must be ...")
        message = str(error["ctx"]["error"])
        return f"'{path}' {message}" if path else message
    if error["type"] in _MUST_BE:
        return f"'{path}' must be {_MUST_BE[error['type']]}" if path else f"{whole} must be {_MUST_BE[error['type']]}"
    return f"'{path}': {error['msg']}"


def describe(exc: ValidationError, whole: str) -> str:
    """Every problem pydantic found, on one line; `whole` names the top level ("each line", "the file")."""
    missing = [_path(e["loc"]) for e in exc.errors() if e["type"] == "missing"]
    unknown = [_path(e["loc"]) for e in exc.errors() if e["type"] == "extra_forbidden"]
    problems = [_one(e, whole) for e in exc.errors() if e["type"] not in ("missing", "extra_forbidden")]
    if unknown:
        problems.insert(0, f"unknown field(s): {', '.join(unknown)}")
    if missing:
        problems.insert(0, f"missing field(s): {', '.join(missing)}")
    return "; ".join(problems)


def read_model(path: Path, model: type[Model], error: type[Exception]) -> Model:
    """A JSON file checked against `model`; any problem raises `error` naming the file and the field."""
    try:
        return model.model_validate(read_json(path, error))
    except ValidationError as exc:
        raise error(f"{path}: {describe(exc, 'the file')}") from exc
