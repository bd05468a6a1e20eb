"""Arabic normalisation, tokens, language and sentence splitting."""

import pytest

from app.text.arabic import content_tokens, detect_language, normalize
from app.text.sentences import split_sentences


def test_normalize_folds_diacritics_tatweel_and_letter_forms():
    assert normalize("الأَمِينُ العـــام") == "الامين العام"
    assert normalize("إلى آخر أحمد") == "الي اخر احمد"
    assert normalize("مدرسة") == "مدرسه"
    assert normalize("مستشفى") == "مستشفي"


def test_normalize_converts_arabic_indic_digits():
    assert normalize("عام ٢٠٣٥ بنسبة ٣٫٥٪") == "عام 2035 بنسبه 3.5%"
    assert normalize("۱۲۳") == "123"


def test_content_tokens_match_across_spelling_variants():
    assert content_tokens("الإنفاقُ الدفاعيّ") == content_tokens("الانفاق الدفاعي")
    assert content_tokens("لاهاى") == content_tokens("لاهاي")


def test_content_tokens_drop_stop_words_and_stem():
    tokens = content_tokens("في هذه الصناعات الدفاعية التي")
    assert "في" not in tokens and "هذه" not in tokens
    assert tokens == content_tokens("الصناعاتُ الدفاعيّة")


def test_detect_language():
    assert detect_language("ما هو الناتو؟") == "ar"
    assert detect_language("What did NATO decide?") == "en"
    assert detect_language("ما موقف NATO من ذلك؟") == "ar"


def test_sentences_split_on_arabic_punctuation_not_on_comma_or_decimals():
    text = "قال الوزير، في كلمته، إن النسبة 3.5% كافية. هل هذا صحيح؟ نعم؛ بالتأكيد\nسطر آخر"
    assert split_sentences(text) == [
        "قال الوزير، في كلمته، إن النسبة 3.5% كافية.",
        "هل هذا صحيح؟",
        "نعم؛",
        "بالتأكيد",
        "سطر آخر",
    ]


def test_sentences_keep_closing_quotes_and_split_glued_periods():
    text = 'وأضاف: "هذا مهم". في السنوات الأخيرة.ففي يونيو حدث ذلك. U.S. forces left.'
    assert split_sentences(text) == [
        'وأضاف: "هذا مهم".',
        "في السنوات الأخيرة.",
        "ففي يونيو حدث ذلك.",
        "U.S. forces left.",
    ]


def test_sentences_keep_one_letter_arabic_abbreviations():
    """A title before a name, initials and an era that goes on do not end a sentence; an era's
    last letter after a year may, and so does a period glued to a longer word."""
    text = ("عايد وزير الصحة م. خالد المرضى. وقال د.محمد إن أ. د. سلمى حضرت. "
            "حكم سنة 336 ق.م، ثم سنة 334 ق. م في حملة. بلغ الدخل عام 2015 م. كما زاد عام 1250 هـ. ثم الأخيرة.ففي")
    assert split_sentences(text) == [
        "عايد وزير الصحة م. خالد المرضى.",
        "وقال د.محمد إن أ. د. سلمى حضرت.",
        "حكم سنة 336 ق.م، ثم سنة 334 ق. م في حملة.",
        "بلغ الدخل عام 2015 م.",
        "كما زاد عام 1250 هـ.",
        "ثم الأخيرة.",
        "ففي",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    # An era glued to its year, in either digits, goes on; one whose last letter has its period ends.
    ("ولد عام 336ق.م، في مقدونيا.", ["ولد عام 336ق.م، في مقدونيا."]),
    ("ولد عام ٣٣٦ق.م، في مقدونيا.", ["ولد عام ٣٣٦ق.م، في مقدونيا."]),
    ("توفي سنة 323 ق. م. وخلفه قادته.", ["توفي سنة 323 ق. م.", "وخلفه قادته."]),
    ("توفي سنة 323 ق.م. وخلفه قادته.", ["توفي سنة 323 ق.م.", "وخلفه قادته."]),
    # A line of its own: the number on the line before is not the title's year.
    ("بلغ العدد 25\nد. خالد قال ذلك", ["بلغ العدد 25", "د. خالد قال ذلك"]),
    # A one-letter word that ends a sentence: the next one plainly starts one.
    ("تصدر المنتخب المجموعة أ. وفي المباراة الأخرى فاز الفريق.",
     ["تصدر المنتخب المجموعة أ.", "وفي المباراة الأخرى فاز الفريق."]),
    ("يساعد فيتامين د. كما أن الحديد مهم.", ["يساعد فيتامين د.", "كما أن الحديد مهم."]),
    ("تصدر المجموعة أ. إنّ الفريق فاز.", ["تصدر المجموعة أ.", "إنّ الفريق فاز."]),
    # Initials with their last period, a title with a diacritic or after a right-to-left mark.
    ("العنوان ص.ب. 1234 الرياض.", ["العنوان ص.ب. 1234 الرياض."]),
    ("قال دُ. خالد ذلك.", ["قال دُ. خالد ذلك."]),
    ("قال \u200fد. خالد ذلك.", ["قال \u200fد. خالد ذلك."]),
    # Latin letters spelled in Arabic, read letter by letter: spaced, glued, the last without its period.
    ("قالت شبكة سي. إن. إن. الأمريكية إن الاجتماع انتهى. وغادر الوفد.",
     ["قالت شبكة سي. إن. إن. الأمريكية إن الاجتماع انتهى.", "وغادر الوفد."]),
    ("ذكرت بي.بي.سي أن الحادث وقع. وقال شهود ذلك.", ["ذكرت بي.بي.سي أن الحادث وقع.", "وقال شهود ذلك."]),
    ("ذكرت بي. بي. سي. أن الحادث وقع.", ["ذكرت بي. بي. سي. أن الحادث وقع."]),
    ("أعلن بنك إتش. إس. بي. سي أرباحه.", ["أعلن بنك إتش. إس. بي. سي أرباحه."]),
    ("شاهدنا قناة إم.بي.سي. وقال المذيع ذلك.", ["شاهدنا قناة إم.بي.سي.", "وقال المذيع ذلك."]),
    # Words that are also letters' names end a sentence when no chain of letters goes on.
    ("وأكد أن الاتفاق سيوقع في. إن الموعد لم يحدد.", ["وأكد أن الاتفاق سيوقع في.", "إن الموعد لم يحدد."]),
    ("لا أدري أيأتي أو. دي الفريق فاز.", ["لا أدري أيأتي أو.", "دي الفريق فاز."]),
    ("قالت شبكة سي. إن. إن. إنّ الاجتماع انتهى.", ["قالت شبكة سي. إن. إن.", "إنّ الاجتماع انتهى."]),
])
def test_sentences_tell_an_abbreviation_from_an_end(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize("unit", ["بي. ", "بي.", "سي. إن. ", "في. " + " " * 30])
def test_a_megabyte_of_spelled_letters_is_one_sentence(unit):
    """An upload of nothing but spelled letters: every period joins the chain (and a splitter that
    looked back over the chain for each period would not finish)."""
    text = unit * (1_000_000 // len(unit))
    assert split_sentences(text) == [text.strip()]
