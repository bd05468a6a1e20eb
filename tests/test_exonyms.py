"""English names Arabic has its own word for (`app.text.exonyms`), and what they let BM25 find."""

from __future__ import annotations

import re

from app.index.lexical import TermCounts
from app.index.records import StoredPassage
from app.text import exonyms
from app.text.arabic import normalize
from app.text.exonyms import arabic_forms
from app.text.transliterate import MOST_NAMES


def _passage(pid: str, text: str) -> StoredPassage:
    return StoredPassage(id=pid, source=pid, title="", date="", language="ar", chunk=0, text=text, sentences=[])


def test_the_shipped_list_is_well_formed() -> None:
    """Every entry an English name and one or more Arabic forms; each English name once."""
    seen: set[str] = set()
    lines = [line for line in exonyms._FILE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(lines) > 500
    for line in lines:
        english, *arabic = line.split("\t")
        assert arabic and not re.search(r"[\u0600-\u06ff]", english), line
        assert all(re.fullmatch(r"[\u0600-\u06ff ]+", form) for form in arabic), line
        assert english.lower() not in seen, line
        seen.add(english.lower())


def test_names_are_found_whole_longest_first_in_the_question_order() -> None:
    assert arabic_forms("In which battle did Saladin defeat the army of Jerusalem?", MOST_NAMES)[-1] == normalize("أورشليم")
    assert arabic_forms("Where is Egypt's border with Sudan?", MOST_NAMES)[:2] == ["مصر", "السودان"]
    assert "روما" in arabic_forms("when was ROME founded?", MOST_NAMES)  # names in any case
    assert arabic_forms("What is Egyptology?", MOST_NAMES) == []  # never inside a word
    assert normalize("المملكة العربية السعودية") in arabic_forms("Who rules Saudi Arabia?", MOST_NAMES)


def test_acronyms_match_only_as_written() -> None:
    assert normalize("الولايات المتحدة") in arabic_forms("What did the US say?", MOST_NAMES)
    assert arabic_forms("Tell us who said it", MOST_NAMES) == []  # "us" and "who" are words, not the US and the WHO


def test_an_english_question_finds_the_arabic_passage_by_a_country_it_names() -> None:
    terms = TermCounts()
    terms.add([_passage("a", "أعلنت الحكومة في مصر خطة جديدة لدعم الصناعة"),
               _passage("b", "افتتح المتحف الوطني في روما معرضا للمخطوطات القديمة")])
    lexical = terms.build()
    assert [pid for pid, _ in lexical.search("What plan did Egypt announce?", 2)] == ["a"]


def test_a_question_naming_many_gives_the_forms_of_a_few_once() -> None:
    found = arabic_forms(" ".join(["Egypt", "Syrian", "Lebanon", "NATO"] * 2000), 3)
    assert set(found) == {"مصر", "سوري", "السوري", "لبنان"}
