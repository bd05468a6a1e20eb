"""The one record every interface receives: an answer with its checked citations.

The CLI, the web API, the Slack bot and the evals all serialise this same
object (`Answer.to_dict`), so its JSON shape is the product's contract.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Mode = Literal["llm", "extractive"]


class QuestionError(ValueError):
    """The question cannot be asked (empty, too long, not text). Safe to show."""


@dataclass
class Passage:
    """A retrieved passage: original text for display, plus where it came from.

    An answer lists every passage it was given (as llama-index's `Response.source_nodes`
    does), so evaluation scripts can score retrieval through the public contract and the
    browser can show what was consulted but not cited.
    """

    id: str
    text: str
    source: str
    title: str
    date: str
    score: float = 0.0
    cited: int | None = None  # the answer's citation number for it, if it cites it

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(float(self.score), 4)
        return data


@dataclass
class Citation:
    n: int
    source: str
    title: str
    date: str
    text: str
    score: float
    # Sentences of `text` the answer relies on (for highlighting); not part of the JSON contract.
    quotes: list[str] = field(default_factory=list)
    passage_id: str = ""  # which retrieved passage it is (`Passage.id`); not part of the contract either
    url: str = ""  # the original article's address, when its metadata gave one (http or https only)
    publisher: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("quotes")
        data.pop("passage_id")
        data["score"] = round(float(self.score), 4)
        return data


@dataclass(frozen=True)
class Draft:
    """What an answerer (LLM or extractive) gives the engine, which times it and makes the `Answer`."""

    text: str
    citations: list[Citation]
    found: bool
    mode: Mode
    short_answer: str | None = None  # the span of the best quote that answers, if there is one


@dataclass
class Answer:
    question: str
    answer: str
    found: bool
    mode: Mode
    citations: list[Citation]
    timings_ms: dict[str, float]
    notice: str | None = None  # e.g. "LLM failed, extractive fallback"
    # The figure, date, name or place that answers, taken from the first quote (None for
    # explanations, "not found", and LLM answers); `answer` holds the proof.
    short_answer: str | None = None
    passages: list[Passage] = field(default_factory=list)  # everything retrieved, best first

    def to_dict(self, id: Any = None) -> dict[str, Any]:
        """The JSON object of the CLI contract; `id` is null when the caller gave none."""
        data: dict[str, Any] = {"id": id}
        data.update(
            question=self.question,
            answer=self.answer,
            short_answer=self.short_answer,
            found=self.found,
            mode=self.mode,
            citations=[c.to_dict() for c in self.citations],
            passages=[p.to_dict() for p in self.passages],
            timings_ms={k: round(v, 1) for k, v in self.timings_ms.items()},
        )
        if self.notice:
            data["notice"] = self.notice
        return data
