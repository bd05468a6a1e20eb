"""Short answers: the span rules on made-up sentences, the English form, and one seed question end to end."""

from __future__ import annotations

import json
import tracemalloc

import lightgbm as lgb  # a dev dependency: it trains the ranker
import numpy as np
import pytest

from app.answer import short_answer
from app.answer.short_answer import english_form, extract
from app.evaluation import metrics as m
from app.text.bilingual import with_arabic_forms
from evals import train_short_answer as train


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    ("كم عدد الجنود الذين أرسلتهم الحكومة إلى الحدود؟",
     "أرسلت الحكومة 3500 جندي إلى الحدود الشمالية الأسبوع الماضي.", "3500 جندي"),  # the figure and what it counts
    ("ما نسبة البطالة في البلاد؟", "بلغت نسبة البطالة في البلاد 7.5 في المئة خلال الربع الأول.", "7.5 في المئة"),
    ("في أي عام افتتح الجسر الجديد؟", "افتتح الجسر الجديد عام 1998 بعد سنوات من العمل.", "1998"),
    ("من قال إن الاقتصاد سيتعافى هذا العام؟", "وقال وزير المالية خالد العمري إن الاقتصاد سيتعافى هذا العام.",
     "وزير المالية خالد العمري"),
    ("ما هي عاصمة رومانيا؟", "عاصمة رومانيا هي بوخارست.", "بوخارست"),
])
def test_the_span_that_answers(question, sentence, expected):
    assert extract(question, sentence) == expected


def test_a_date_and_a_place_are_found_in_their_sentence():
    date = extract("متى افتتح الجسر الجديد؟", "افتتح الجسر الجديد في 12 مارس 2024 بحضور الوزير.")
    assert date is not None and "12 مارس 2024" in date
    place = extract("أين عقد مؤتمر المناخ؟", "عقد مؤتمر المناخ في مراكش وسط حضور دولي واسع.")
    assert place is not None and place.startswith("مراكش")


@pytest.mark.parametrize("question", ["لماذا ارتفعت الأسعار؟", "Why did prices rise?", "ما سبب ارتفاع الأسعار؟"])
def test_explanations_have_no_short_answer(question):
    assert extract(question, "ارتفعت الأسعار بنسبة 5% بسبب الجفاف الذي ضرب المنطقة.") is None


def test_a_how_question_gets_the_means():
    """"How" asks for a means or a way, which a sentence states in a few words."""
    means = extract("كيف ينتقل المرض بين الناس؟",
                    "ينتقل المرض بين الناس عن طريق الرذاذ المتطاير من الفم، وفق وزارة الصحة.")
    assert means is not None and "الرذاذ" in means and "وزارة" not in means


@pytest.mark.parametrize("sentence", [
    # 600 words, about 15,000 candidate spans: scored in blocks, so one answer never holds every
    # span's tree tests at once (about 200 MB for this one).
    " ".join(f"كلمة{i}" for i in range(600)) + " أرسلت الحكومة 3500 جندي",
    # One word of 5,000 characters (a run of "=" is a few tokens to the chunker) and 400 short ones:
    # what precedes each of the 10,000 spans is read from per-word flags; an array of the words
    # themselves, as wide as the longest, took about 200 MB.
    "x" + "=" * 5000 + "x " + " ".join(["و"] * 400) + " أرسلت الحكومة 3500 جندي",
], ids=["long unpunctuated", "one very long word"])
def test_a_hostile_passage_costs_bounded_memory(sentence):
    tracemalloc.start()
    try:
        found = extract("كم عدد الجنود الذين أرسلتهم الحكومة؟", sentence)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found is not None and "3500" in found
    assert peak < 80_000_000


def test_a_sentence_that_only_repeats_the_question_has_no_short_answer():
    assert extract("من هو رئيس اللجنة؟", "رئيس اللجنة.") is None


@pytest.mark.parametrize(("arabic", "english"), [
    ("25 يونيو 2025", "25 June 2025"),
    ("٢٥ حزيران ٢٠٢٥", "25 June 2025"),
    ("كانون الثاني 2024", "January 2024"),
    ("10 إبريل", "10 April"),
    ("5 في المئة", "5%"),
    ("1" * 5000, "1" * 5000),  # a long run of digits with no percent after it stays as it is
    ("12,5 بالمئة", "12,5%"),
    ("25\u200f يونيو", "25 June"),  # a direction mark between the day and the month
    ("مايو2020", "May 2020"),
    ("آب 2025", "August 2025"),
    ("أب 3 أطفال", "أب 3 أطفال"),  # "father of 3 children": a month name that is also a word takes a year after it
    ("مارس 30 عاما", "مارس 30 عاما"),  # "practised for 30 years"
    ("في 5 مارس", "في 5 March"),
    ("٣٫٥ بالمائة", "3.5%"),
    ("٥٪", "5%"),
    ("بحلول عام ٢٠٣٥", "بحلول عام 2035"),
    ("شهر مارس", "شهر مارس"),  # no figure beside it: the article's word stays
    ("مارك روته", "مارك روته"),
])
def test_english_form_of_figures_and_dates(arabic, english):
    assert english_form(arabic) == english


def test_the_model_is_small_and_reads_only_features():
    data = json.loads(short_answer.MODEL.read_text(encoding="utf-8"))
    assert short_answer.MODEL.stat().st_size < 5_000_000
    assert data["features"] == short_answer.feature_names()
    forest = short_answer.Forest.load(short_answer.MODEL)
    inner = 2**forest.depth - 1
    assert forest.features.shape == forest.thresholds.shape == (len(forest.leaves), inner)
    assert forest.features.max() < len(data["features"])


def test_a_model_of_other_features_is_refused(tmp_path):
    data = json.loads(short_answer.MODEL.read_text(encoding="utf-8"))
    stale = tmp_path / "model.json"
    stale.write_text(json.dumps({**data, "features": data["features"][:-1]}), encoding="utf-8")
    with pytest.raises(ValueError, match="other features"):
        short_answer.Forest.load(stale)


def test_the_numpy_forest_scores_as_lightgbm_does():
    """The trees LightGBM trains, written as arrays by the training script, give LightGBM's own
    scores, including trees that stopped splitting above the last level."""
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 4, size=(600, 5)).astype(np.float32)
    rows[:, 4] = rng.random(600)
    labels = ((rows[:, 0] == 2) * 3 + (rows[:, 4] > 0.7) * 2 + rng.integers(0, 2, 600)).astype(int)
    # 600 rows cannot fill 8 leaves of 100: many branches stop above the last level
    booster = lgb.train({**train.PARAMS, "min_data_in_leaf": 100}, lgb.Dataset(rows, labels, group=[20] * 30),
                        num_boost_round=30)
    forest = train.as_forest(booster)
    assert (forest.thresholds >= train.NEVER).any()
    probe = np.vstack([rows[:50], rng.random((50, 5)).astype(np.float32) * 4])
    assert np.allclose(forest.score(probe), booster.predict(probe), atol=1e-5)


def test_squad_scoring_drops_the_arabic_article():
    assert m.exact_match("الهلال", ["هلال"]) == 1.0
    assert m.token_f1("نادي الهلال", ["هلال"]) == pytest.approx(2 / 3)
    assert m.squad_tokens("اله") == ["اله"]  # too short to be the article and a word


def test_seed_answers_carry_a_short_answer(engine):
    share = engine.answer("ما النسبة من الناتج المحلي التي اتفق قادة الناتو على استثمارها في الدفاع؟")
    assert share.found and share.short_answer is not None
    assert "5%" in share.short_answer and "3.5" not in share.short_answer
    assert share.to_dict()["short_answer"] == share.short_answer
    assert list(share.to_dict())[:4] == ["id", "question", "answer", "short_answer"]
    why = engine.answer("لماذا دعا روته إلى تعزيز التعاون مع الصناعات الدفاعية؟")
    assert why.short_answer is None


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    ("When did Egypt sign the treaty?", "وقعت سوريا اتفاقية الحدود عام 1923، بينما وقعت مصر المعاهدة عام 1979 في واشنطن.",
     "1979"),
    ("Where was Saladin born?", "ولد ريتشارد قلب الأسد في أكسفورد، أما صلاح الدين فولد في تكريت.", "تكريت"),
    ("How many soldiers did the government send to the border?",
     "أرسلت الحكومة 3500 جندي إلى الحدود الشمالية الأسبوع الماضي.", "3500"),
])
def test_an_english_question_places_its_short_answer_by_the_arabic_forms_of_its_words(question, sentence, expected):
    """An English question shares no word with an Arabic sentence: searched with the Arabic forms of
    its names and words (as the engine does), the span next to the name asked about is the answer."""
    query = with_arabic_forms(question, lambda token: False)  # the listed names need no index
    assert expected in (extract(question, sentence, query=query) or "")
