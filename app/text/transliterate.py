"""Latin-script names in an English question, spelled the ways the Arabic articles may write them.

An English question and an Arabic article share no words, so BM25 is blind to English questions
and e5-small's cross-lingual cosines alone rank for them; those are weakest on the very words
that single out one article in an archive: the names of people and places. Arabic writes a
foreign name by sound, so its spellings can be guessed letter by letter; most guesses are not
words, and the index's own vocabulary says which are: a guess survives only while each of its
character 4-grams is one the index holds (`lexical_tokens` pads words with "#", so a 4-gram at a
word's edge is evidence of a word starting or ending so), and is kept only if all of the whole
word's tokens are there too. Nothing here knows what the articles say.

The spellings join the names and words of `bilingual`'s lists in `bilingual.with_arabic_forms`:
what words are matched against, never what is embedded. `evals/README.md` has what they changed,
and why they are not used to pick sentences or to narrow the answering articles.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.text.arabic import NGRAM, lexical_tokens, normalize, stopwords
from app.text.months import MONTHS

# The sounds of English spelling and the Arabic letters that write them (normalised forms: ا for
# every alef, ه for ta marbuta), most likely first; "" drops a letter Arabic leaves unwritten
# (most short vowels). Two-letter spellings are read before single letters.
_SOUNDS: dict[str, tuple[str, ...]] = {
    "sh": ("ش",), "ch": ("تش", "ش", "خ", "ك"), "kh": ("خ",), "th": ("ث", "ت", "ذ"), "gh": ("غ", "ج", ""),
    "ph": ("ف",), "dh": ("ض", "ذ", "د"), "ck": ("ك",), "qu": ("كو", "ك"), "ou": ("و",), "oo": ("و",), "ee": ("ي",), "ea": ("ي",),
    "ai": ("اي", "ي"), "ay": ("اي", "ي"), "ei": ("اي", "ي"), "ie": ("ي",), "ow": ("او", "و"), "au": ("او", "و"),
    "a": ("ا", ""), "e": ("", "ي", "ا"), "i": ("ي", ""), "o": ("و", ""), "u": ("و", ""), "y": ("ي", ""),
    "b": ("ب",), "c": ("ك", "س"), "d": ("د", "ض"), "f": ("ف",), "g": ("غ", "ج", "ق"), "h": ("ه", "ح", ""),
    "j": ("ج", "ي"), "k": ("ك", "ق"), "l": ("ل",), "m": ("م",), "n": ("ن",), "p": ("ب",), "q": ("ق", "ك"),
    "r": ("ر",), "s": ("س", "ز", "ص"), "t": ("ت", "ط"), "v": ("ف",), "w": ("و",), "x": ("كس",), "z": ("ز",),
}
# A name's first and last sounds are written differently: Arabic writes a first vowel with an
# alef or an ع and never drops a first "h"; a last "e" is mostly silent or a ه, a last "a" an ا or a ه.
_FIRST: dict[str, tuple[str, ...]] = {
    "a": ("ا", "ع"), "au": ("ا", "او"), "e": ("ا", "اي", "ع"), "i": ("ا", "اي", "ع"), "o": ("او", "ع", "ا"),
    "u": ("او", "ع", "ا"), "h": ("ه", "ح"),
}
_LAST: dict[str, tuple[str, ...]] = {"e": ("", "ه", "ي"), "a": ("ا", "ه"), "o": ("و",), "ea": ("يا", "ي")}
_NAME = re.compile(r"\b(?:[A-Z][a-z]+|[A-Z]{3,})(?:'s)?\b")
_MIN_LETTERS = 3  # shorter names match too many Arabic words
# Bounds on what one question may cost: no name is longer, and a question naming more is a list.
_MAX_LETTERS = 24
MOST_NAMES = 8
BEAM = 64  # spellings followed at once, cheapest first
# A spelling may take a letter's less likely forms (each costs 1) once, and once more every three sounds:
# beyond that, what the index holds is mostly some other word that sounds alike.
SOUNDS_PER_COST = 3
MOST = 3  # spellings kept per name


def names(question: str) -> list[str]:
    """The question's capitalised words and acronyms that may be names (at most `MOST_NAMES`): not
    its first word (any word is capitalised there), not a stop word or a month, of
    `_MIN_LETTERS` to `_MAX_LETTERS` letters."""
    stops = stopwords()
    found = []
    for match in _NAME.finditer(question):
        word = match.group().removesuffix("'s")
        before = question[: match.start()].rstrip()
        first = not before or before[-1] in ".?!:"
        folded = normalize(word)
        if _MIN_LETTERS <= len(word) <= _MAX_LETTERS and (word.isupper() or not first) and folded not in stops \
                and folded not in MONTHS:
            found.append(word)
    return list(dict.fromkeys(found))[:MOST_NAMES]


def _steps(word: str) -> list[tuple[str, ...]]:
    """The word's sounds in order, as the Arabic letters each may be written with."""
    word = re.sub(r"([b-df-hj-np-tv-z])\1", r"\1", word.lower())  # a doubled consonant is written once
    sounds, i = [], 0
    while i < len(word):
        sound = word[i : i + 2] if word[i : i + 2] in _SOUNDS else word[i]
        sounds.append(sound)
        i += len(sound)
    steps = [_SOUNDS.get(sound, ("",)) for sound in sounds]
    if sounds:
        steps[0] = _FIRST.get(sounds[0], steps[0])
        if len(sounds) > 1:
            steps[-1] = _LAST.get(sounds[-1], steps[-1])
    return steps


def arabic_spellings(name: str, known: Callable[[str], bool]) -> list[str]:
    """The Arabic words the index holds that may write `name`, likeliest first (at most `MOST`).

    `known(token)` says whether the index holds a lexical token (`lexical_tokens`): a padded
    character 4-gram or a word's stem. Each step keeps the `BEAM` cheapest partial spellings
    whose 4-grams are all known (a letter's first Arabic form costs nothing, each other one 1; the
    article "ال" may lead); a whole spelling is kept when all its tokens are known."""
    steps = _steps(name)
    budget = 1 if name.isupper() else 1 + len(steps) // SOUNDS_PER_COST
    beam: list[tuple[int, str]] = [(0, "#"), (0, "#ال")]
    for options in steps:
        grown: dict[str, int] = {}
        for cost, spelled in beam:
            for rank, letters in enumerate(options):
                candidate, spent = spelled + letters, cost + rank
                new_grams = range(max(0, len(spelled) - NGRAM + 1), len(candidate) - NGRAM + 1)
                if spent <= budget and spent < grown.get(candidate, budget + 1) \
                        and all(known(candidate[i : i + NGRAM]) for i in new_grams):
                    grown[candidate] = spent
        beam = sorted(((c, s) for s, c in grown.items()), key=lambda item: item[0])[:BEAM]
    words: list[str] = []
    for _, spelled in beam:
        word = spelled[1:]
        if len(word) >= _MIN_LETTERS and word not in words and all(known(t) for t in lexical_tokens(word)):
            words.append(word)
    return words[:MOST]
