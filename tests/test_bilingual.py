"""English names and words in Arabic (`app.text.bilingual`), and what they let BM25 find."""

from __future__ import annotations

import re

import pytest

from app.index.lexical import LexicalIndex, TermCounts
from app.index.records import StoredPassage
from app.text.arabic import normalize
from app.text.bilingual import MOST_WORDS, NAMES, WORDS, HandList
from app.text.transliterate import MOST_NAMES


def _passage(pid: str, text: str) -> StoredPassage:
    return StoredPassage(id=pid, source=pid, title="", date="", language="ar", chunk=0, text=text, sentences=[])


@pytest.mark.parametrize("hand_list", [NAMES, WORDS], ids=["names", "words"])
def test_the_shipped_lists_are_well_formed(hand_list: HandList) -> None:
    """Every entry English, with one or more Arabic forms; each entry once."""
    seen: set[str] = set()
    lines = [line for line in hand_list.file.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(lines) > 500
    for line in lines:
        english, *arabic = line.split("\t")
        assert arabic and not re.search(r"[\u0600-\u06ff]", english), line
        assert all(re.fullmatch(r"[\u0600-\u06ff ]+", form) for form in arabic), line
        assert english.lower() not in seen, line
        seen.add(english.lower())


def test_names_are_found_whole_longest_first_in_the_question_order() -> None:
    assert NAMES.arabic_forms("In which battle did Saladin defeat the army of Jerusalem?", MOST_NAMES)[-1] == normalize("أورشليم")
    assert NAMES.arabic_forms("Where is Egypt's border with Sudan?", MOST_NAMES)[:2] == ["مصر", "السودان"]
    assert "روما" in NAMES.arabic_forms("when was ROME founded?", MOST_NAMES)  # names in any case
    assert NAMES.arabic_forms("What is Egyptology?", MOST_NAMES) == []  # never inside a word
    assert normalize("المملكة العربية السعودية") in NAMES.arabic_forms("Who rules Saudi Arabia?", MOST_NAMES)


def test_acronyms_match_only_as_written() -> None:
    assert normalize("الولايات المتحدة") in NAMES.arabic_forms("What did the US say?", MOST_NAMES)
    assert NAMES.arabic_forms("Tell us who said it", MOST_NAMES) == []  # "us" and "who" are words, not the US and the WHO


def test_a_question_naming_many_gives_the_forms_of_a_few_once() -> None:
    found = NAMES.arabic_forms(" ".join(["Egypt", "Syrian", "Lebanon", "NATO"] * 2000), 3)
    assert set(found) == {"مصر", "سوري", "السوري", "لبنان"}


def test_english_words_are_read_as_the_arabic_words_text_uses() -> None:
    forms = WORDS.arabic_forms("When was the city founded, and who was its first prime minister?", MOST_WORDS)
    assert {normalize("تأسس"), normalize("مدينة"), normalize("رئيس الوزراء")} <= set(forms)
    assert WORDS.arabic_forms("What is it, and how did they do it?", MOST_WORDS) == []  # function words are not listed


def test_an_inflection_the_lexicon_does_not_list_is_found_by_its_stem() -> None:
    assert "sultans" not in WORDS._table[2] and "hosting" not in WORDS._table[2]
    assert normalize("سلطان") in WORDS.arabic_forms("How many sultans ruled?", MOST_WORDS)
    assert normalize("استضاف") in WORDS.arabic_forms("Which city is hosting it?", MOST_WORDS)
    assert NAMES.arabic_forms("How many Egypts are there?", MOST_NAMES) == []  # names are found only as listed


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    terms = TermCounts()
    terms.add([_passage("a", "ذكر روته الرئيس الأمريكي الأسبق أيزنهاور في كلمته"),
               _passage("b", "أعلنت الحكومة في مصر خطة جديدة لدعم الصناعة"),
               _passage("c", "تأسست المدينة في القرن العاشر على ضفاف النهر"),
               _passage("d", "ارتفعت أسعار النفط في الأسواق العالمية هذا الأسبوع")])
    return terms.build()


@pytest.mark.parametrize(("question", "found"), [
    ("What did Rutte say about Eisenhower?", ["a"]),  # names spelled by sound
    ("What plan did Egypt announce?", ["b"]),  # a name Arabic has its own word for
    ("When was the city founded?", ["c"]),  # words, through the lexicon
    ("How did oil prices move this week?", ["d"]),
    ("Who painted it?", []),  # nothing it says is in any passage
])
def test_an_english_question_finds_the_arabic_passage(lexical: LexicalIndex, question: str, found: list[str]) -> None:
    assert [pid for pid, _ in lexical.search(question, 1)] == found
