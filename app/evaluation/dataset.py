"""Question sets for the evals: our JSON Lines format and SQuAD-format files.

A broken question set must never turn into a quietly lower score, so every
problem is reported as a `DatasetError` naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from app.answer.record import QuestionError
from app.evaluation.files import Model, describe, read_json, read_text
from app.filters import Filters, parse_filters

LANGS = ("ar", "en")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Id = Annotated[str, StringConstraints(pattern=r"\S")]  # kept as written: `follows` must repeat it exactly
Forms = Annotated[tuple[Text, ...], Field(min_length=1)]  # one fact, spelled every acceptable way


class DatasetError(ValueError):
    """A question file that cannot be used as it is (message names file and line)."""


class EvalQuestion(BaseModel):
    """One line of a question file: a scripted question and what a correct answer must contain.

    A time-bound question also says what its time scores need: the period it asks about
    (`since`/`until`, a day, month or year as `app.filters` reads them), the newest relevant
    article for a "latest" question, and for a "how did it develop" question that its
    `sources` are listed oldest first.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    question: Text
    lang: str
    answerable: StrictBool
    sources: tuple[Text, ...]
    # Each fact is a tuple of acceptable forms; an answer needs one form of every fact.
    facts: tuple[Forms, ...]
    follows: Id | None = None  # id of the question this one continues
    tags: tuple[Text, ...] = ()
    note: str | None = None
    corpus: Literal["seeds", "news"] = "seeds"  # news: the news-ar subset `--news` indexes
    since: Text | None = None
    until: Text | None = None
    latest: Text | None = None  # the newest relevant article: a "latest" answer cites it first
    timeline: StrictBool = False  # "how did X develop": a dated list, oldest first, of `sources`
    _file: str = PrivateAttr("")
    _line: int = PrivateAttr(0)

    @field_validator("lang")
    @classmethod
    def _known_lang(cls, lang: str) -> str:
        if lang not in LANGS:
            raise ValueError(f"must be one of {', '.join(LANGS)}, not {lang!r}")
        return lang

    @model_validator(mode="after")
    def _facts_fit_answerable(self) -> Self:
        if self.answerable and not (self.sources and self.facts):
            raise ValueError("an answerable question needs 'sources' and 'facts'")
        if not self.answerable and (self.facts or self.latest or self.timeline):
            raise ValueError("an unanswerable question cannot list 'facts', 'latest' or 'timeline'")
        return self

    @model_validator(mode="after")
    def _time_fields_fit(self) -> Self:
        try:
            parse_filters(self.since, self.until)
        except QuestionError as exc:  # its message names the field ("since: ... is not a date")
            raise ValueError(str(exc)) from None
        if self.latest is not None and self.latest not in self.sources:
            raise ValueError(f"'latest' must be one of the question's sources, not {self.latest!r}")
        if self.timeline and len(self.sources) < 2:
            raise ValueError("a 'timeline' question needs at least two sources, oldest first")
        return self

    @property
    def period(self) -> Filters | None:
        """The period asked about, read as the filters read one (a month's `until` is its last day)."""
        return parse_filters(self.since, self.until) if self.since or self.until else None

    @property
    def time_bound(self) -> bool:
        """Scored on time too, and summarised in the `time` groups instead of the general ones."""
        return bool(self.period or self.latest or self.timeline)

    def written_at(self, file: str, line: int) -> Self:
        """Remember where the question was written, for messages about it."""
        self._file, self._line = file, line
        return self

    @property
    def file(self) -> str:
        return self._file

    @property
    def line(self) -> int:
        return self._line


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Each non-blank line of a JSON Lines file, with its number."""
    for lineno, line in enumerate(read_text(path, DatasetError).splitlines(), start=1):
        if line.strip():
            yield lineno, line


def _line_as(model: type[Model], text: str, where: str) -> Model:
    """One line validated as `model`; a problem is a `DatasetError` naming the line."""
    try:
        return model.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from exc
    except ValidationError as exc:
        raise DatasetError(f"{where}: {describe(exc, 'each line')}") from exc


def _parse_line(text: str, where: str, seen: dict[str, EvalQuestion]) -> EvalQuestion:
    """One non-blank line as a question, checked against the questions before it."""
    question = _line_as(EvalQuestion, text, where)
    if question.id in seen:
        first = seen[question.id]
        raise DatasetError(f"{where}: duplicate id {question.id!r} (first at {first.file}:{first.line})")
    if question.follows is not None and question.follows not in seen:
        raise DatasetError(f"{where}: 'follows' must name an earlier question's id, not {question.follows!r}")
    if question.follows is not None and seen[question.follows].corpus != question.corpus:
        raise DatasetError(f"{where}: 'follows' must name a question on the same corpus ({question.corpus})")
    return question


def load_questions(paths: list[Path]) -> list[EvalQuestion]:
    """Read one or more JSON Lines question files (ids unique across all of them)."""
    seen: dict[str, EvalQuestion] = {}
    for path in paths:
        for lineno, line in _lines(path):
            question = _parse_line(line, f"{path}:{lineno}", seen)
            seen[question.id] = question.written_at(str(path), lineno)
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


class Translation(BaseModel):
    """One line of a translations file: a SQuAD question asked in another language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    question: Text


@dataclass(frozen=True)
class Translations:
    file: str
    questions: dict[str, str]  # SQuAD question id -> the question in the other language


def load_translations(path: Path, squad: SquadSet) -> Translations:
    """JSON Lines `{"id", "question"}`, each id a question of `squad`, once.

    A translated set measures what an English reader meets over Arabic paragraphs: the same
    questions, gold paragraphs and answers, only the question's language changed."""
    known = {q.id for q in squad.questions}
    found: dict[str, str] = {}
    for lineno, line in _lines(path):
        where = f"{path}:{lineno}"
        row = _line_as(Translation, line, where)
        if row.id not in known:
            raise DatasetError(f"{where}: no question {row.id!r} in the SQuAD set")
        if row.id in found:
            raise DatasetError(f"{where}: question {row.id!r} translated twice")
        found[row.id] = row.question
    if not found:
        raise DatasetError(f"{path}: no translations")
    return Translations(str(path), found)
