"""English names and words, and the Arabic that text writes for them: two hand-written lists.

An English question shares no word with an Arabic article. `transliterate` guesses how Arabic
spells a foreign name by its sounds, which works for names Arabic borrowed ("Rutte" روته) and
fails for the ones it has its own word for; ordinary words it cannot give at all. The lists hold
both, written from general knowledge (language, not anything an article says):

- `NAMES` (`data/exonyms.tsv`): countries, cities, seas, organisations, empires, religions and
  a few famous people ("Egypt" مصر, "Jerusalem" القدس, "NATO" الناتو);
- `WORDS` (`data/lexicon_en_ar.tsv`): the content words of factual questions ("born" ولد,
  "capital" عاصمة, "prime minister" رئيس الوزراء).

`with_arabic_forms` adds both, and the spellings by sound, to an English question: what words
are matched against (BM25's query, the short answer's question words), never what is embedded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from app.text.arabic import content_tokens, normalize
from app.text.transliterate import MOST_NAMES, arabic_spellings, names

_DATA = Path(__file__).parent / "data"
_LATIN = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"[A-Za-z]+")
MOST_WORDS = 16  # of a question's words read in Arabic: a longer question is a list, not a question


class HandList:
    """English entries (a word, a name, an expression) and their Arabic forms, read from a TSV
    file (`english<TAB>arabic[<TAB>arabic …]`, `#` comments) on first use."""

    def __init__(self, file: Path, by_stem: bool = False) -> None:
        self.file = file
        self.by_stem = by_stem  # also find an inflection the list does not hold by its English stem

    @cached_property
    def _table(self) -> tuple[re.Pattern[str], re.Pattern[str], dict[str, tuple[str, ...]]]:
        """One pattern for the acronyms (matched as written: "US" is not "us"), one for the other
        entries (any case), longest first so "Red Sea" wins over "Red"; and each entry's forms."""
        forms: dict[str, tuple[str, ...]] = {}
        for line in self.file.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                english, *arabic = (field.strip() for field in line.split("\t"))
                key = english if english.isupper() else english.lower()
                forms[key] = tuple(dict.fromkeys([*forms.get(key, ()), *(normalize(a) for a in arabic if a)]))

        def pattern(entries: list[str], flags: int) -> re.Pattern[str]:
            if not entries:
                return re.compile(r"(?!)")  # matches nothing
            alternatives = "|".join(re.escape(e) for e in sorted(entries, key=len, reverse=True))
            return re.compile(rf"(?<![A-Za-z])({alternatives})(?![A-Za-z])", flags)

        acronyms = [entry for entry in forms if entry.isupper()]
        return pattern(acronyms, 0), pattern([e for e in forms if not e.isupper()], re.IGNORECASE), forms

    @cached_property
    def _stems(self) -> dict[str, str]:
        """Each one-word entry by its English stem ("sultan" for "sultans", "host" for "hosting")."""
        stems: dict[str, str] = {}
        for entry in self._table[2]:
            if entry.isalpha() and entry.islower() and len(stem := content_tokens(entry)) == 1:
                stems.setdefault(stem[0], entry)
        return stems

    def arabic_forms(self, text: str, most: int) -> list[str]:
        """The Arabic forms (normalised) of the first `most` entries found in `text`, in its order."""
        acronyms, entries, forms = self._table
        found = [(m.start(), m.start() + len(m.group(1)), m.group(1)) for m in acronyms.finditer(text)]
        found += [(m.start(), m.end(1), m.group(1).lower()) for m in entries.finditer(text)]
        if self.by_stem:
            covered = {i for start, end, _ in found for i in range(start, end)}
            for word in _WORD.finditer(text):
                if word.start() not in covered and (stem := content_tokens(word.group())):
                    if entry := self._stems.get(stem[0]):
                        found.append((word.start(), word.end(), entry))
        first = list(dict.fromkeys(entry for _, _, entry in sorted(found)))[:most]
        return list(dict.fromkeys(form for entry in first for form in forms[entry]))


NAMES = HandList(_DATA / "exonyms.tsv")
WORDS = HandList(_DATA / "lexicon_en_ar.tsv", by_stem=True)


def with_arabic_forms(question: str, known: Callable[[str], bool]) -> str:
    """The question followed by the Arabic of its names (listed, then by sound as far as the index
    holds them: `known` says whether it holds a lexical token) and of its words; unchanged when
    it has none (an Arabic question, which never pays for compiling the lists)."""
    if not _LATIN.search(question):
        return question
    found = NAMES.arabic_forms(question, MOST_NAMES) + WORDS.arabic_forms(question, MOST_WORDS)
    found += [word for name in names(question) for word in arabic_spellings(name, known)]
    return " ".join([question, *dict.fromkeys(found)])
