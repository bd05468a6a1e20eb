"""English names that Arabic writes its own way: Egypt is مصر, Jerusalem القدس, NATO حلف شمال الأطلسي.

`transliterate` guesses how Arabic spells a foreign name by its sounds, which works for names
Arabic borrowed ("Rutte" روته) and fails for the ones it has its own word for: countries,
cities, seas, organisations, empires, religions and a few famous people. `data/exonyms.tsv`
lists those (written from general knowledge: language, not anything an article says), and
`arabic_forms` finds them in an English question. Like the spellings, the forms feed what
words are matched against (BM25, the short answer's question words), never what is embedded.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from app.text.arabic import normalize

_FILE = Path(__file__).parent / "data" / "exonyms.tsv"


@lru_cache(maxsize=1)
def _table() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, tuple[str, ...]]]:
    """One pattern for the acronyms (matched as written: "US" is not "us"), one for the other
    names (any case), longest names first so "Red Sea" wins over "Red"; and each name's forms."""
    forms: dict[str, tuple[str, ...]] = {}
    for line in _FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            english, *arabic = (field.strip() for field in line.split("\t"))
            key = english if english.isupper() else english.lower()
            forms[key] = tuple(dict.fromkeys([*forms.get(key, ()), *(normalize(a) for a in arabic if a)]))

    def pattern(names: list[str], flags: int) -> re.Pattern[str]:
        if not names:
            return re.compile(r"(?!)")  # matches nothing
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        return re.compile(rf"(?<![A-Za-z])({alternatives})(?![A-Za-z])", flags)

    acronyms = [name for name in forms if name.isupper()]
    return pattern(acronyms, 0), pattern([n for n in forms if not n.isupper()], re.IGNORECASE), forms


def arabic_forms(question: str, most: int) -> list[str]:
    """The Arabic forms (normalised) of the first `most` listed names in `question`, in its order."""
    acronyms, names, forms = _table()
    found = [(m.start(), m.group(1)) for m in acronyms.finditer(question)]
    found += [(m.start(), m.group(1).lower()) for m in names.finditer(question)]
    first = list(dict.fromkeys(name for _, name in sorted(found)))[:most]
    return list(dict.fromkeys(form for name in first for form in forms[name]))
