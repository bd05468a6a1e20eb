"""A model's raw answer made into the answer's text: thinking held back, sources lists and the refusal token removed."""

from __future__ import annotations

import pytest

from app.answer.llm_text import StreamedReply, ThinkFilter, answer_text


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


def streamed(raw: str, size: int) -> tuple[str, str]:
    """What a reply delivered in `size`-character deltas shows, and its whole text for `answer_text`."""
    reply = StreamedReply(raw[i : i + size] for i in range(0, len(raw), size))
    return "".join(reply), reply.text


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
@pytest.mark.parametrize(("raw", "shown"), [
    ("The target was agreed [1]. [[NOT_FOUND]] The date is not given.",
     "The target was agreed [1].   The date is not given."),
    ("[NOT_FOUND]", " "),
    ("Answer [1].\n\nSources:\n[1] a title\n[2] another", "Answer [1].\n\n"),
    ("الإجابة [2].\n\n**المصادر:**\n- [2] عنوان", "الإجابة [2].\n\n"),
    ("Sources say the summit met [1].\nIt agreed [2].", "Sources say the summit met [1].\nIt agreed [2]."),
    ("مصادر مطلعة قالت إن القمة انعقدت [1].", "مصادر مطلعة قالت إن القمة انعقدت [1]."),
    ("<think>draft [3]</think>The answer [1].", "The answer [1]."),
])
def test_a_stream_never_shows_what_the_final_text_drops(raw: str, shown: str, size: int) -> None:
    text, whole = streamed(raw, size)
    assert text == shown
    assert answer_text(whole, 3)[0].strip() == answer_text(raw, 3)[0].strip()  # the final text reads the same reply
    assert answer_text(whole, 3)[1] == ("NOT_FOUND" in raw)  # the refusal is still seen


def test_a_lone_closing_tag_ends_the_thinking_in_the_final_text() -> None:
    # Templates that open the thought in the prompt: the reply starts inside it.
    shown, whole = streamed("The passages mention [2] but it is off topic.</think>The target was agreed [1].", 4)
    assert "</think>" not in shown
    assert answer_text(whole, 3) == ("The target was agreed [1].", False)
