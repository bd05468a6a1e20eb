"""English names and words, and the Arabic that text writes for them: two hand-written lists.

An English question shares no word with an Arabic article. `transliterate` guesses how Arabic
spells a foreign name by its sounds, which works for names Arabic borrowed ("Obama" أوباما) and
fails for the ones it has its own word for; ordinary words it cannot give at all. The lists hold
both, written from general knowledge (language, not anything an article says):

- `NAMES` (`data/exonyms.tsv`): countries, cities, seas, organisations, empires, religions and
  a few famous people ("Egypt" مصر, "Jerusalem" القدس, "UNESCO" اليونسكو), matched as capitalised;
- `WORDS` (`data/lexicon_en_ar.tsv`): the content words of factual questions ("born" ولد,
  "capital" عاصمة, "prime minister" رئيس الوزراء), in any case and their regular inflections
  ("sultans", "hosting"), never inside a listed name ("New York" is not new).

`with_arabic_forms` adds both, and the spellings by sound, to a question with Latin letters:
what words are matched against (BM25's query, the short answer's question words), never what
is embedded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path

from app.text.arabic import has_latin, normalize
from app.text.transliterate import MOST_NAMES, arabic_spellings, names

_DATA = Path(__file__).parent / "data"
# A token of English text: letters and digits, joined by an apostrophe, a dot, a slash or a
# hyphen ("Ha'il", "Al-Andalus", "9/11"); a possessive "'s" is not part of it.
_TOKEN = re.compile(r"([A-Za-z0-9]+(?:['’./-](?![sS]\b)[A-Za-z0-9]+)*)")
MOST_WORDS = 16  # of a question's words read in Arabic: a longer question is a list, not a question

Span = tuple[int, int]


def _tokens(text: str) -> list[str]:
    return [m.group(1) for m in _TOKEN.finditer(text)]


def _inflections(word: str) -> set[str]:
    """The regular inflections of an English word: plural or third person, past, -ing."""
    stem = word[:-1] if word.endswith("e") else word
    forms = {word + "s", word + "es", stem + "ed", stem + "ing"}
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if len(word) > 2 and word[-1] not in "aeiouwxy" and word[-2] in "aeiou" and word[-3] not in "aeiou":
        forms |= {word + word[-1] + "ed", word + word[-1] + "ing"}  # "planned", "stopping"
    return forms


class HandList:
    """English entries (a word, a name, an expression) and their Arabic forms, read from a TSV
    file (`english<TAB>arabic[<TAB>arabic …]`, `#` comments) on first use.

    `words`: entries are matched in any case and by their regular inflections; otherwise they
    are names, matched as written (a lowercase "chad" or "amazon" is not the country or river).
    Entries are looked up by the text's tokens, longest run first ("Red Sea" over "Red"), so a
    token never matches inside another ("9/11" is not in "29/11/2023", "G7" not in "G77")."""

    def __init__(self, file: Path, words: bool) -> None:
        self.file = file
        self.words = words

    @cached_property
    def _forms(self) -> dict[str, tuple[str, ...]]:
        """Each entry (and, for words, each inflection the list does not hold itself) and its forms."""
        forms: dict[str, tuple[str, ...]] = {}
        for line in self.file.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                english, *arabic = (field.strip() for field in line.split("\t"))
                key = " ".join(_tokens(english.lower() if self.words else english))
                forms[key] = tuple(dict.fromkeys([*forms.get(key, ()), *(normalize(a) for a in arabic if a)]))
        if self.words:
            inflected: dict[str, tuple[str, ...]] = {}
            for entry, written in forms.items():
                for form in _inflections(entry) if entry.isalpha() else ():
                    inflected.setdefault(form, written)
            forms = {**inflected, **forms}  # an entry of its own keeps its own forms
        return forms

    @cached_property
    def _longest(self) -> int:
        return max((entry.count(" ") + 1 for entry in self._forms), default=0)

    def find(self, text: str, skip: Iterable[Span] = ()) -> list[tuple[Span, str]]:
        """Each entry in `text` outside the `skip` spans: (where, entry), in order."""
        tokens = [(m.span(1), m.group(1).lower() if self.words else m.group(1)) for m in _TOKEN.finditer(text)]
        skipped = list(skip)
        found: list[tuple[Span, str]] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self._longest, len(tokens) - i), 0, -1):
                entry = " ".join(token for _, token in tokens[i : i + size])
                where = (tokens[i][0][0], tokens[i + size - 1][0][1])
                if entry in self._forms and not any(s < where[1] and where[0] < e for s, e in skipped):
                    found.append((where, entry))
                    i += size
                    break
            else:
                i += 1
        return found

    def arabic_forms(self, found: list[tuple[Span, str]], most: int) -> list[str]:
        """The Arabic forms (normalised) of the first `most` entries `find` found."""
        first = list(dict.fromkeys(entry for _, entry in found))[:most]
        return list(dict.fromkeys(form for entry in first for form in self._forms[entry]))


NAMES = HandList(_DATA / "exonyms.tsv", words=False)
WORDS = HandList(_DATA / "lexicon_en_ar.tsv", words=True)


def with_arabic_forms(question: str, known: Callable[[str], bool]) -> str:
    """The question followed by the Arabic of its names (listed, then by sound as far as the index
    holds them: `known` says whether it holds a lexical token) and of its other words; unchanged
    when it has no Latin letter (an Arabic question, which never pays for compiling the lists)."""
    if not has_latin(question):
        return question
    listed = NAMES.find(question)
    # A listed name's words are not translated ("New York" is not new). Other capitalised words
    # are: the name of a programme or a body is mostly words Arabic translates ("Development Fund"
    # صندوق التنمية), a person's name rarely a word of the lexicon.
    words = WORDS.find(question, [where for where, _ in listed])
    found = NAMES.arabic_forms(listed, MOST_NAMES) + WORDS.arabic_forms(words, MOST_WORDS)
    found += [word for name in names(question) for word in arabic_spellings(name, known)]
    return " ".join([question, *dict.fromkeys(found)])
