"""A model's raw answer made into the answer's text: thinking held back, sources lists and the refusal token removed."""

from __future__ import annotations

import pytest

from app.answer.llm_text import ThinkFilter, answer_text


def filtered(deltas: list[str]) -> list[str]:
    thinking = ThinkFilter()
    return [thinking.feed(d) for d in deltas] + [thinking.flush()]


@pytest.mark.parametrize("size", [1, 2, 5, 1000])  # tags split anywhere across deltas
def test_thinking_is_held_back_however_the_deltas_split_it(size: int) -> None:
    raw = "<think>passage [3] is off topic</think>\n\nThe answer [1], and a<b <t.<think>more [2]</think> End"
    shown = filtered([raw[i : i + size] for i in range(0, len(raw), size)])
    assert "".join(shown) == "\n\nThe answer [1], and a<b <t. End"


def test_an_unterminated_thought_hides_the_rest() -> None:
    assert "".join(filtered(["Before <thi", "nk>still thinking [2] ", "</thi"])) == "Before "


def test_text_is_shown_as_it_comes_outside_thinking() -> None:
    assert filtered(["The ", "answer <", "b [1]"]) == ["The ", "answer ", "<b [1]", ""]


@pytest.mark.parametrize(("raw", "text"), [
    ("Answer [1].\n\nSources:\n[1] title\n[2] other", "Answer [1]."),  # listed, not cited inline: not a citation
    ("الإجابة [2].\n\n**المصادر:**\n- [1] عنوان", "الإجابة [2]."),
    ("Answer [1].\n\n### References\n1. A title", "Answer [1]."),
    ("Answer【2】.\n\nSources:\n【2】 title", "Answer [2]."),
    ("A [^2].\n\n[^2]: title two\n", "A [2]."),  # footnote definitions, no heading
    ("Answer.\n\nSources:\n[1] title\n[3] other", "Answer. [1][3]"),  # no inline marker: the list is the evidence
    ("Answer.\nSources: [2], [3]", "Answer. [2][3]"),
    ("- a [1]\n- b [2]\n\n1. c [2]\n2. d", "- a [1]\n- b [2]\n\n1. c [2]\n2. d"),
])
def test_a_sources_list_is_removed_and_cites_only_when_nothing_else_does(raw: str, text: str) -> None:
    assert answer_text(raw, 5) == (text, False)


@pytest.mark.parametrize(("raw", "text"), [
    ("[[NOT_FOUND]]", ""),
    ("NOT_FOUND", ""),
    ("The passages don't say X, but [2] says Y. [[NOT_FOUND]]", "The passages don't say X, but [2] says Y."),
    ("[NOT_FOUND]\n\nSources:\n[1] title", ""),  # a refusal's list cites nothing
])
def test_the_refusal_token_is_never_part_of_the_text(raw: str, text: str) -> None:
    shown, refused = answer_text(raw, 5)
    assert refused and shown.strip() == text
