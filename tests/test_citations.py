"""Citation checking: unknown markers dropped, the rest renumbered by first use."""

import pytest

from app.answer.citations import resolve_citations
from app.answer.markers import normalize_markers
from app.index.records import StoredPassage
from app.retrieve import Hit


def hits(n: int) -> list[Hit]:
    return [
        Hit(StoredPassage(f"p{i}", f"f{i}.txt", f"title {i}", "", "ar", 0, f"text {i}", [(0, 6)]), 1.0 / (i + 1))
        for i in range(1, n + 1)
    ]


def test_markers_renumbered_in_order_of_first_use_and_unknown_dropped():
    text, citations = resolve_citations("A [3]. B [1][7]. C [3, 1].", hits(3))
    assert text == "A [1]. B [2]. C [1][2]."
    assert [(c.n, c.source) for c in citations] == [(1, "f3.txt"), (2, "f1.txt")]
    assert citations[0].text == "text 3"


def test_arabic_digits_and_arabic_comma_in_markers():
    text, citations = resolve_citations("جملة [٢، ١].", hits(2))
    assert text == "جملة [1][2]."
    assert [c.source for c in citations] == ["f2.txt", "f1.txt"]


def test_no_valid_marker_means_no_citation():
    text, citations = resolve_citations("Invented [9] claim [0].", hits(2))
    assert citations == [] and text == "Invented claim."


def test_ranges_are_expanded_and_renumbered() -> None:
    text, citations = resolve_citations("A [2-3]. B [1–2].", hits(3))
    assert text == "A [1][2]. B [3][1]."
    assert [c.n for c in citations] == [1, 2, 3]


def test_a_marker_inside_a_quoted_sentence_stays_text() -> None:
    from app.answer.citations import quote_answer

    text, citations = quote_answer([(1, "الطاقة تكفي أربعين مليون منزل [3]."), (0, "جملة ثانية.")], hits(3))
    assert text == "الطاقة تكفي أربعين مليون منزل [3]. [1] جملة ثانية. [2]"
    assert [c.source for c in citations] == [hits(3)[1].passage.source, hits(3)[0].passage.source]


def test_list_lines_and_indentation_survive_resolving() -> None:
    text, _ = resolve_citations("Items:\n- a [3]\n  - b [9]\n\n1. c [1]\n2. d", hits(3))
    assert text == "Items:\n- a [1]\n  - b\n\n1. c [2]\n2. d"


@pytest.mark.parametrize(("written", "normal"), [
    ("A【1】, B 【2، 3】.", "A [1], B [2، 3]."),  # Qwen, DeepSeek
    ("A ［1］.", "A [1]."),
    ("A[^1][^2].\n\n[^1]: t", "A [1][2].\n\n[1]: t"),  # Markdown footnotes
    ("A [Source 1], B [Passage 2, Passage 3], C [sources: 1-2].", "A [1], B [2, 3], C [1-2]."),
    ("أ [المصدر ١]، ب [المقطع 2].", "أ [١]، ب [2]."),
    ("A [1][2] and [3, 4].", "A [1][2] and [3, 4]."),  # the canonical form, untouched
])
def test_bracketed_forms_become_the_canonical_marker(written: str, normal: str) -> None:
    assert normalize_markers(written, 5) == normal


@pytest.mark.parametrize(("written", "normal"), [
    ("The target (1). Its date (2)", "The target [1]. Its date [2]"),  # before punctuation, at the line's end
    ("الهدف (١، 3).", "الهدف [١، 3]."),
    ("A (1)(2), B (2-3).", "A [1][2], B [2-3]."),
    ("In June (2025).", "In June (2025)."),  # a year names no passage
    ("Met (7).", "Met (7)."),  # only 5 passages
    ("(1) first, (2) second.", "(1) first, (2) second."),  # a list's numbers begin their line or a phrase
    ("Article (3) of the law.", "Article (3) of the law."),  # followed by words
    ("A [1]. B (2).", "A [1]. B (2)."),  # a model citing with brackets means something else by parentheses
    ("A【1】. B (2).", "A [1]. B (2)."),
])
def test_a_parenthesised_number_is_a_citation_only_where_one_sits(written: str, normal: str) -> None:
    assert normalize_markers(written, 5) == normal
