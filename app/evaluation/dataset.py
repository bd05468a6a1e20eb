"""Question sets for the evals: our JSON Lines format and SQuAD-format files.

A broken question set must never turn into a quietly lower score, so every
problem is reported as a `DatasetError` naming the file and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGS = ("ar", "en")
_REQUIRED = {"id", "question", "lang", "answerable", "sources", "facts"}
_OPTIONAL = {"note", "follows", "tags"}


class DatasetError(ValueError):
    """A question file that cannot be used as it is (message names file and line)."""


@dataclass(frozen=True)
class EvalQuestion:
    """One scripted question and what a correct answer must contain."""

    id: str
    question: str
    lang: str
    answerable: bool
    sources: tuple[str, ...]
    # Each fact is a tuple of acceptable forms; an answer needs one form of every fact.
    facts: tuple[tuple[str, ...], ...]
    follows: str | None = None  # id of the question this one continues
    tags: tuple[str, ...] = ()
    note: str | None = None
    file: str = ""
    line: int = 0


def _string_list(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"'{what}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _parse_question(item: Any, seen: dict[str, EvalQuestion]) -> dict[str, Any]:
    """Validate one decoded line; raises ValueError with a message about the field."""
    if not isinstance(item, dict):
        raise ValueError("each line must be a JSON object")
    missing = sorted(_REQUIRED - item.keys())
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(item.keys() - _REQUIRED - _OPTIONAL)
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    qid = item["id"]
    if not isinstance(qid, str) or not qid.strip():
        raise ValueError("'id' must be a non-empty string")
    if qid in seen:
        where = seen[qid]
        raise ValueError(f"duplicate id {qid!r} (first at {where.file}:{where.line})")
    if not isinstance(item["question"], str) or not item["question"].strip():
        raise ValueError("'question' must be a non-empty string")
    if item["lang"] not in LANGS:
        raise ValueError(f"'lang' must be one of {', '.join(LANGS)}, not {item['lang']!r}")
    if not isinstance(item["answerable"], bool):
        raise ValueError("'answerable' must be true or false")
    sources = _string_list(item["sources"], "sources")
    if not isinstance(item["facts"], list):
        raise ValueError("'facts' must be a list of lists of alternative forms")
    facts = tuple(_string_list(fact, f"facts[{i}]") for i, fact in enumerate(item["facts"]))
    if any(not fact for fact in facts):
        raise ValueError("every fact needs at least one form")
    if item["answerable"] and not (sources and facts):
        raise ValueError("an answerable question needs 'sources' and 'facts'")
    if not item["answerable"] and facts:
        raise ValueError("an unanswerable question cannot list 'facts'")
    follows = item.get("follows")
    if follows is not None and follows not in seen:
        raise ValueError(f"'follows' must name an earlier question's id, not {follows!r}")
    note = item.get("note")
    if note is not None and not isinstance(note, str):
        raise ValueError("'note' must be a string")
    return {
        "id": qid,
        "question": item["question"].strip(),
        "lang": item["lang"],
        "answerable": item["answerable"],
        "sources": sources,
        "facts": facts,
        "follows": follows,
        "tags": _string_list(item.get("tags", []), "tags"),
        "note": note,
    }


def load_questions(paths: list[Path]) -> list[EvalQuestion]:
    """Read one or more JSON Lines question files (ids unique across all of them)."""
    seen: dict[str, EvalQuestion] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}: cannot read ({exc})") from exc
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                fields = _parse_question(json.loads(line), seen)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from exc
            except ValueError as exc:
                raise DatasetError(f"{path}:{lineno}: {exc}") from exc
            seen[fields["id"]] = EvalQuestion(**fields, file=str(path), line=lineno)
    if not seen:
        raise DatasetError(f"{', '.join(map(str, paths))}: no questions")
    return list(seen.values())


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    paragraph: int  # index into SquadSet.paragraphs


@dataclass
class SquadSet:
    """Paragraphs and their questions from a SQuAD-format file."""

    paragraphs: list[str] = field(default_factory=list)
    questions: list[SquadQuestion] = field(default_factory=list)


def read_json(path: Path, error: type[Exception]) -> Any:
    """A JSON file's content; an unreadable or invalid file raises `error` naming the file and line."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise error(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from exc


def load_squad(path: Path) -> SquadSet:
    """Read SQuAD v1 JSON (`data[].paragraphs[].{context, qas[].{id, question, answers[].text}}`)."""
    doc = read_json(path, DatasetError)
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise DatasetError(f"{path}: not SQuAD format (no top-level 'data' list)")
    result = SquadSet()
    for a, article in enumerate(doc["data"]):
        for p, para in enumerate(article.get("paragraphs", []) if isinstance(article, dict) else []):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            context = para.get("context") if isinstance(para, dict) else None
            if not isinstance(context, str) or not context.strip():
                raise DatasetError(f"{where}: missing 'context'")
            result.paragraphs.append(context.strip())
            for qa in para.get("qas", []):
                answers = tuple(
                    ans["text"].strip()
                    for ans in qa.get("answers", [])
                    if isinstance(ans, dict) and isinstance(ans.get("text"), str) and ans["text"].strip()
                ) if isinstance(qa, dict) else ()
                question = qa.get("question") if isinstance(qa, dict) else None
                if not isinstance(question, str) or not question.strip() or not answers:
                    raise DatasetError(f"{where}: a question without text or answers ({qa!r:.80})")
                result.questions.append(
                    SquadQuestion(str(qa.get("id", len(result.questions))), question.strip(), answers,
                                  len(result.paragraphs) - 1)
                )
    if not result.questions:
        raise DatasetError(f"{path}: no questions")
    return result
