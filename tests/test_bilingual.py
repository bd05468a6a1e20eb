"""English names and words in Arabic (`app.text.bilingual`), and what they let BM25 find."""

from __future__ import annotations

import re

import pytest

from app.index.lexical import LexicalIndex, TermCounts
from app.index.records import StoredPassage
from app.text.arabic import normalize
from app.text.bilingual import MOST_WORDS, NAMES, WORDS, HandList, with_arabic_forms
from app.text.transliterate import MOST_NAMES


def _passage(pid: str, text: str) -> StoredPassage:
    return StoredPassage(id=pid, source=pid, title="", date="", language="ar", chunk=0, text=text, sentences=[])


def names_in(text: str, most: int = MOST_NAMES) -> list[str]:
    return NAMES.arabic_forms(NAMES.find(text), most)


def words_in(text: str) -> list[str]:
    return WORDS.arabic_forms(WORDS.find(text), MOST_WORDS)


@pytest.mark.parametrize("hand_list", [NAMES, WORDS], ids=["names", "words"])
def test_the_shipped_lists_are_well_formed(hand_list: HandList) -> None:
    """Every entry English, with one or more Arabic forms; each entry once."""
    seen: set[str] = set()
    lines = [line for line in hand_list.file.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(lines) > 500
    for line in lines:
        english, *arabic = line.split("\t")
        assert english and english == english.strip() and not re.search(r"[\u0600-\u06ff]", english), line
        assert arabic and all(re.fullmatch(r"[\u0600-\u06ff]+( [\u0600-\u06ff]+)*", form) for form in arabic), line
        assert english.lower() not in seen, line
        seen.add(english.lower())


def test_names_are_found_whole_longest_first_in_the_question_order() -> None:
    assert names_in("In which battle did Saladin defeat the army of Jerusalem?")[-1] == normalize("أورشليم")
    assert names_in("Where is Egypt's border with Sudan?")[:2] == ["مصر", "السودان"]
    assert names_in("What is Egyptology?") == []  # never inside a word
    assert normalize("المملكة العربية السعودية") in names_in("Who rules Saudi Arabia?")
    # The longest entry wins across kinds: the UN Security Council is not also the UN.
    assert normalize("الأمم المتحدة") not in names_in("What did the UN Security Council decide?")
    assert names_in("What happened on 29/11/2023 at the G77?") == []  # not 9/11, not the G7


def test_names_match_as_written() -> None:
    assert normalize("الولايات المتحدة") in names_in("What did the US say?")
    assert names_in("Tell us who said it") == []  # "us" and "who" are words, not the US and the WHO
    assert names_in("Is the chad of a tyre in the amazon?") == []  # lowercase: words, not places


def test_a_question_naming_many_gives_the_forms_of_a_few_once() -> None:
    found = names_in(" ".join(["Egypt", "Syrian", "Lebanon", "NATO"] * 2000), 3)
    assert set(found) == {"مصر", "سوري", "السوري", "لبنان"}
    # So are words: a question listing thousands adds the forms of MOST_WORDS of them at most.
    many = WORDS.find(" ".join(["born", "capital", "war", "river", "king", "city", "oil", "army", "treaty"] * 300))
    assert len(set(WORDS.arabic_forms(many, 4))) <= 4 * 3


def test_english_words_are_read_as_the_arabic_words_text_uses() -> None:
    forms = words_in("When was the city founded, and who was its first prime minister?")
    assert {normalize("تأسس"), normalize("مدينة"), normalize("رئيس الوزراء")} <= set(forms)
    assert words_in("What is it, and how did they do it?") == []  # function words are not listed


def test_a_regular_inflection_the_lexicon_does_not_list_is_found() -> None:
    assert normalize("سلطان") in words_in("How many sultans ruled?")
    assert normalize("استضاف") in words_in("Which city is hosting it?")
    assert words_in("Who did he like as well?") == []  # not "likely", not "wells"
    assert names_in("How many Egypts are there?") == []  # names only as listed


def test_words_inside_a_listed_name_are_not_translated() -> None:
    question = "What did the Innovation Fund say about New York?"
    added = with_arabic_forms(question, lambda token: False)[len(question):].split()
    assert "نيويورك" in added and "جديد" not in added
    assert {"صندوق", "ابتكار", "قال"} <= set(added)  # a programme's name is words Arabic translates


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
