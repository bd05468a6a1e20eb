"""English names matched to the Arabic spellings an index holds (`app.text.transliterate`)."""

from __future__ import annotations

import pytest

from app.text.arabic import lexical_tokens
from app.text.bilingual import with_arabic_forms
from app.text.transliterate import arabic_spellings, names


def _known(*texts: str):
    vocabulary = {token for text in texts for token in lexical_tokens(text)}
    return vocabulary.__contains__


def test_names_are_capitalised_words_and_acronyms_past_the_first_word() -> None:
    question = "Which mountain near Al-Anad did NATO's chief Mark Rutte visit in July? Where is it?"
    assert names(question) == ["Anad", "NATO", "Mark", "Rutte"]  # not Which, Al, July, Where


@pytest.mark.parametrize(("name", "arabic"), [
    ("Eisenhower", "أيزنهاور"), ("Marles", "مارلز"), ("Rutte", "روته"), ("Romania", "رومانيا"),
    ("Omar", "عمر"), ("Asir", "عسير"), ("Australia", "أستراليا"), ("Korea", "كوريا"),
])
def test_a_name_is_found_as_the_index_spells_it(name: str, arabic: str) -> None:
    known = _known(f"قال {arabic} إن الاجتماع انتهى", "وصلت الطائرة إلى المطار صباح اليوم")
    assert arabic.replace("أ", "ا") in arabic_spellings(name, known)


def test_a_spelling_the_index_does_not_hold_is_never_offered() -> None:
    known = _known("وصلت الطائرة إلى المطار صباح اليوم", "قال الوزير إن الاجتماع انتهى")
    assert arabic_spellings("Eisenhower", known) == []
    assert with_arabic_forms("Who was Eisenhower?", known) == "Who was Eisenhower?"


def test_a_hostile_question_names_little_and_spells_nothing_long() -> None:
    """A question of a thousand capitalised words, or one endless word, costs a few names at most."""
    crowd = " ".join(f"Name{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(150))
    assert len(names(f"Who are {crowd}?")) == 8
    known = _known("روته " * 10)
    assert names("Who is " + "Rutte" * 100 + "?") == []
    assert arabic_spellings("Rutte" * 100, known) == []
